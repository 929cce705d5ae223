import fs from 'node:fs';
import net from 'node:net';

/** Ports this process handed out already: each is given once, even before anything listens on it. */
const handedOut = new Set<number>();

/**
 * Where to look for a free port: above the kernel's range for ephemeral ports (Linux's
 * ip_local_port_range, 32768-60999 by default). A port the kernel gave away for `listen(0)` goes
 * back into that range the moment it is closed, and the next outgoing connection of any process may
 * take it before the service that was meant to have it listens; above the range nothing takes a port
 * unasked. Null where the range cannot be read (not Linux) or leaves too little room above it.
 */
function roomAboveEphemeralPorts(): { low: number; high: number } | null {
  try {
    const [, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (high === undefined || !Number.isInteger(high) || 65535 - high < 1000) return null;
    return { low: high + 1, high: 65535 };
  } catch {
    return null;
  }
}

const room = roomAboveEphemeralPorts();

function listensOn(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/** A TCP port on loopback that nothing listens on right now, and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const wanted = room ? room.low + Math.floor(Math.random() * (room.high - room.low + 1)) : 0;
    if (handedOut.has(wanted)) continue;
    const port = await listensOn(wanted);
    if (port !== null && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('found no free loopback port in 100 tries');
}
