import net from 'node:net';
import type { PortClaim } from './plan';

/** A port some other program holds, and how a person finds out which. */
export interface HeldPort extends PortClaim {
  /** The command that names the program listening there. */
  find: string;
}

/** Whether binding `host:port` fails because something listens there; errors other than "in use" say nothing. */
function bindFails(port: number, host: string, ipv6Only: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    probe.listen({ port, host, ipv6Only, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/**
 * Whether anything listens on `port` on this machine. Two binds: the IPv4 wildcard (what the services
 * bind, and which clashes with a holder on 127.0.0.1 or 0.0.0.0), and the IPv6 wildcard (a holder on
 * [::] or [::1] would answer the requests a browser sends to localhost). A machine without IPv6 fails
 * the second bind with another error, which is not "in use".
 */
export async function portHeld(port: number): Promise<boolean> {
  return (await bindFails(port, '0.0.0.0', false)) || (await bindFails(port, '::', true));
}

export function findCommand(port: number, platform: NodeJS.Platform = process.platform): string {
  return platform === 'linux' ? `ss -ltnp 'sport = :${port}'` : `lsof -nP -iTCP:${port} -sTCP:LISTEN`;
}

/** The claimed ports that another program holds right now, one probe at a time (they are few). */
export async function heldPorts(claims: readonly PortClaim[]): Promise<HeldPort[]> {
  const held: HeldPort[] = [];
  for (const claim of claims) if (await portHeld(claim.port)) held.push({ ...claim, find: findCommand(claim.port) });
  return held;
}

/**
 * Whether Node's fetch refuses to connect to `port` at all (the Fetch standard's "bad ports", such as
 * 6000 for X11): the services and the flow page reach each other with fetch, so a process there would
 * never be reached. Asked of fetch itself, so the list is the one this Node holds; ask only of ports
 * nothing holds (heldPorts), where an allowed port refuses the connection at once.
 */
export async function blockedByFetch(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
    return false;
  } catch (error) {
    return (error as { cause?: { message?: unknown } }).cause?.message === 'bad port';
  }
}

/** The claimed ports fetch would refuse to connect to. */
export async function blockedPorts(claims: readonly PortClaim[]): Promise<PortClaim[]> {
  const blocked: PortClaim[] = [];
  for (const claim of claims) if (await blockedByFetch(claim.port)) blocked.push(claim);
  return blocked;
}
