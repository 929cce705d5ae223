import { spawnSync } from 'node:child_process';

/**
 * Finding the nats-server program, apart from the cluster code: the supervisor needs only this, and
 * `npm run dev` runs the supervisor from its sources, where every import is compiled on the fly.
 */

/** The message for a machine without nats-server: what to install, and how. */
export const NATS_SERVER_MISSING =
  'nats-server is not on PATH: install it (Debian/Ubuntu, as root: apt-get install -y nats-server), or run the embedded engine with npm start';

/**
 * The nats-server program: NATS_SERVER if set, else the one on PATH, else Debian's (its package puts it
 * in /usr/sbin, which a non-root PATH may lack); null when there is none.
 */
export function natsServerProgram(): string | null {
  const candidates = process.env.NATS_SERVER ? [process.env.NATS_SERVER] : ['nats-server', '/usr/sbin/nats-server'];
  return candidates.find((program) => spawnSync(program, ['--version'], { encoding: 'utf8' }).status === 0) ?? null;
}
