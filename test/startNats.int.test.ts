import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { natsServerTooOld } from '@blog/contracts';
import { createComment, createPost, commentsInView, queryView } from './support/blogApi';
import { oldNatsServer } from './support/natsServers';
import { CommandGroup } from './support/commandGroup';
import { readyRecord } from './support/supervisorOutput';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * `npm run start:nats` as a user runs it (after the build that npm test has done): the supervisor with
 * the NATS engine, nats-server first and then the services on it.
 */
const ROOT = path.resolve(__dirname, '..');
const ENTRY = path.join(ROOT, 'launcher', 'dist', 'supervise.js');
jest.setTimeout(120_000);

const system = new CommandGroup();

afterAll(async () => {
  await system.stop();
  removeTempDirs();
});

it('when nats-server is not installed, then it says how to get one and exits 1', () => {
  const run = spawnSync(process.execPath, [ENTRY, '--engine', 'nats'], { env: { ...process.env, NATS_SERVER: '/nowhere/nats-server' }, encoding: 'utf8' });

  expect(run.status).toBe(1);
  expect(run.stderr).toContain('needs nats-server 2.10 or later');
  expect(run.stderr).toContain('bash scripts/get-nats-server.sh');
  // Nothing was started.
  expect(run.stdout).toBe('');
});

it('when the only nats-server is older than 2.10, then it names its version, says what to install and exits 1', () => {
  const run = spawnSync(process.execPath, [ENTRY, '--engine', 'nats'], { env: { ...process.env, NATS_SERVER: oldNatsServer() }, encoding: 'utf8' });

  expect(run.status).toBe(1);
  expect(run.stderr).toContain('NATS_SERVER names an older nats-server');
  expect(run.stderr).toContain('is 2.9.10');
  expect(run.stderr).toContain('bash scripts/get-nats-server.sh');
  expect(run.stdout).toBe('');
});

it('when started, then the services run on NATS JetStream on the default ports and a comment reaches its verdict', async () => {
  system.start(process.execPath, [ENTRY, '--engine', 'nats'], { NATS_STORE_DIR: makeTempDir('start-nats-'), LOGS_DIR: makeTempDir('start-nats-logs-') });
  const ready = await waitFor('every process to be ready', () => readyRecord(system.stdout), { timeoutMs: 90_000, intervalMs: 250 }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- start:nats printed:\n${system.output.slice(-3000)}`);
  });
  expect(ready).toMatchObject({ engine: 'nats', urls: { nats: 'nats://127.0.0.1:4222', 'event-bus': 'http://localhost:4005' } });
  const processes = (await (await fetch('http://127.0.0.1:4100/processes')).json()) as { engine: string; processes: { name: string; state: string }[] };
  expect(processes.engine).toBe('nats');
  expect(processes.processes.map((process) => process.name)).toEqual(['nats', 'event-bus', 'posts', 'comments', 'moderation', 'query', 'client']);

  const post = await createPost('http://localhost:4000', 'On NATS');
  const comment = await createComment('http://localhost:4001', post.body.id, 'An orange on NATS');
  expect(comment.status).toBe(201);
  await waitFor('the verdict in the view', async () => commentsInView(await queryView('http://localhost:4002')).get(comment.body.id)?.status === 'rejected');
  // The bus is the gateway: its log is the stream's.
  const log = (await (await fetch('http://localhost:4005/events')).json()) as { type: string }[];
  expect(log.map((event) => event.type)).toEqual(['PostCreated', 'CommentCreated', 'CommentModerated', 'CommentUpdated']);
  const monitor = await fetch('http://127.0.0.1:8222/jsz');
  expect(((await monitor.json()) as { streams: number }).streams).toBe(2);
  // One server: every write synced to disk before it is acknowledged, on a server of 2.10 or later.
  const varz = (await (await fetch('http://127.0.0.1:8222/varz')).json()) as { version: string; jetstream: { config: { sync_always?: boolean } } };
  expect(varz.jetstream.config.sync_always).toBe(true);
  expect(natsServerTooOld(varz.version)).toBeNull();
});
