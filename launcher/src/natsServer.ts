import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NATS_SERVER_ADVICE, NATS_SERVER_MINIMUM_TEXT, natsServerTooOld, natsServerVersionOf } from '@blog/contracts';

/**
 * Finding the nats-server program, apart from the cluster code: the supervisor needs only this, and
 * `npm run dev` runs the supervisor from its sources, where every import is compiled on the fly.
 */

/** Where scripts/get-nats-server.sh puts Debian's packages: `.tools/nats-server/<version>/nats-server`. */
export const NATS_TOOLS_DIR = path.resolve(__dirname, '../../.tools/nats-server');

export interface NatsServerProgram {
  path: string;
  /** As the program reports it: `2.10.27`. */
  version: string;
}

function versionOf(program: string): string | null {
  const answer = spawnSync(program, ['--version'], { encoding: 'utf8' });
  return answer.status === 0 ? (natsServerVersionOf(answer.stdout)?.text ?? null) : null;
}

/** The servers in .tools, newest first. */
function toolsCandidates(): string[] {
  const versions = fs.existsSync(NATS_TOOLS_DIR) ? fs.readdirSync(NATS_TOOLS_DIR) : [];
  const newestFirst = versions
    .map((name) => ({ name, version: natsServerVersionOf(name) }))
    .filter(({ version }) => version !== null)
    .sort((a, b) => b.version!.major - a.version!.major || b.version!.minor - a.version!.minor || b.version!.patch - a.version!.patch);
  return newestFirst.map(({ name }) => path.join(NATS_TOOLS_DIR, name, 'nats-server'));
}

/**
 * The nats-server program the NATS engine runs on: NATS_SERVER if set; otherwise the newest of
 * .tools/nats-server, the one on PATH and Debian's (its package puts it in /usr/sbin, which a non-root
 * PATH may lack) that is 2.10 or later. Throws, saying what it found and what to install, when there is none.
 */
export function natsServerProgram(env: NodeJS.ProcessEnv = process.env): NatsServerProgram {
  const candidates = env.NATS_SERVER ? [env.NATS_SERVER] : [...toolsCandidates(), 'nats-server', '/usr/sbin/nats-server'];
  const tooOld: string[] = [];
  for (const candidate of candidates) {
    const version = versionOf(candidate);
    if (version === null) continue;
    const problem = natsServerTooOld(version);
    if (!problem) return { path: candidate, version };
    tooOld.push(`${candidate} is ${version}`);
  }
  const found = env.NATS_SERVER
    ? tooOld.length > 0
      ? `NATS_SERVER names an older nats-server (${tooOld[0]})`
      : `NATS_SERVER=${env.NATS_SERVER} is not a nats-server that runs`
    : tooOld.length > 0
      ? `only older nats-servers were found (${tooOld.join('; ')})`
      : 'no nats-server was found (not in .tools/, not on PATH, not in /usr/sbin)';
  throw new Error(`The NATS engine needs nats-server ${NATS_SERVER_MINIMUM_TEXT} or later: ${found}. ${NATS_SERVER_ADVICE}; or run the embedded engine with npm start.`);
}

/** The version of a nats-server program (for the older server a test starts on purpose), or null when it does not run. */
export function natsServerVersion(program: string): string | null {
  return versionOf(program);
}
