import fs from 'node:fs';
import path from 'node:path';
import { NATS_TOOLS_DIR, natsServerVersion, type NatsServerProgram } from '@blog/launcher';

/** The release older than the engine supports that the tests start on purpose: Debian 12's. */
export const OLD_NATS_SERVER_VERSION = '2.9.10';

/**
 * Debian 12's nats-server 2.9.10, as scripts/get-nats-server.sh puts it in .tools/ (.ci/run runs it);
 * throws, saying how to get it, when it is not there: the test that needs it must not pass without it.
 */
export function oldNatsServer(): string {
  const program = path.join(NATS_TOOLS_DIR, OLD_NATS_SERVER_VERSION, 'nats-server');
  if (!fs.existsSync(program)) throw new Error(`${program} is missing: run bash scripts/get-nats-server.sh (it puts Debian 12's nats-server ${OLD_NATS_SERVER_VERSION} there)`);
  return program;
}

export function oldNatsServerProgram(): NatsServerProgram {
  const program = oldNatsServer();
  return { path: program, version: natsServerVersion(program) ?? OLD_NATS_SERVER_VERSION };
}
