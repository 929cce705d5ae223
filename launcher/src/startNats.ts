import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { NATS_SERVER_MISSING, NatsNode, natsServerProgram } from './natsCluster';

/**
 * `npm run start:nats`: the whole system on NATS JetStream instead of the embedded bus. Starts one local
 * nats-server (JetStream on, its store in data/nats/ or NATS_STORE_DIR, kept between runs like the bus's
 * log), then the same processes as `npm start` with NATS_URL pointing at it. Ctrl+C stops both.
 */
const ROOT = path.resolve(__dirname, '../..');
const CLIENT_PORT = 4222;
const MONITOR_PORT = 8222;

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

async function main(): Promise<number> {
  const program = natsServerProgram();
  if (!program) {
    console.error(NATS_SERVER_MISSING);
    return 1;
  }
  for (const port of [CLIENT_PORT, MONITOR_PORT]) {
    if (await portTaken(port)) {
      console.error(`port ${port} is in use (another nats-server?): stop it, or run the services on it yourself with NATS_URL=nats://127.0.0.1:${CLIENT_PORT} npm start`);
      return 1;
    }
  }
  const storeDir = path.resolve(ROOT, process.env.NATS_STORE_DIR ?? path.join('data', 'nats'));
  fs.mkdirSync(storeDir, { recursive: true });
  const nats = new NatsNode('nats', { client: CLIENT_PORT, cluster: 0, monitor: MONITOR_PORT }, storeDir, [], program);
  await nats.start();
  console.log(`[nats] nats-server with JetStream on nats://127.0.0.1:${CLIENT_PORT} (store: ${path.relative(ROOT, storeDir)}/, monitoring: http://127.0.0.1:${MONITOR_PORT})`);

  const services = spawn('npm', ['run', 'serve'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NATS_URL: `nats://127.0.0.1:${CLIENT_PORT}` },
  });
  const stop = () => services.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await new Promise<number>((resolve) => services.once('exit', (exitCode) => resolve(exitCode ?? 1)));
  await nats.stop('SIGTERM');
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
