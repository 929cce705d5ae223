import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ServiceProcess, freePort, natsCluster, type NatsNode } from './support/localSystem';
import { postCreated } from './support/factories';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * One owner per data folder, and a folder that goes away is noticed: a second bus on a folder in use
 * refuses to start; a database deleted under a running bus acknowledges nothing more; the repair
 * commands say "no store here" for a folder that holds none, and see a NATS store deleted under its
 * running server.
 */
const ROOT = path.resolve(__dirname, '..');
jest.setTimeout(120_000);

const processes: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  removeTempDirs();
});

async function busOn(dataDir: string): Promise<ServiceProcess> {
  const bus = new ServiceProcess('event-bus', await freePort(), { DATA_DIR: dataDir, SUBSCRIBERS: 'none', LOG_LEVEL: 'warn' });
  processes.push(bus);
  return bus;
}

const publish = (bus: ServiceProcess) => fetch(`${bus.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(postCreated()) });

describe('the embedded bus and its data folder', () => {
  it('when a second bus is started on a folder a running bus holds, then it exits saying which folder and what to do, and the first goes on', async () => {
    const dataDir = makeTempDir('one-owner-');
    const first = await busOn(dataDir);
    await first.start();
    const second = await busOn(dataDir);

    await expect(second.start()).rejects.toThrow(/exited with 1/);
    expect(second.recentOutput()).toContain(`the data folder ${dataDir} is in use by another bus: give this one a folder of its own (DATA_DIR), or stop the other`);
    expect((await publish(first)).status).toBe(201);
  });

  it('when the database file is deleted under a running bus, then no write is acknowledged after it, and the bus says so and is not ready', async () => {
    const dataDir = makeTempDir('deleted-under-');
    const bus = await busOn(dataDir);
    await bus.start();
    expect((await publish(bus)).status).toBe(201);

    fs.rmSync(dataDir, { recursive: true, force: true });

    for (let attempt = 0; attempt < 3; attempt += 1) expect((await publish(bus)).status).toBe(503);
    const readiness = await waitFor('the bus to say why it is not ready', async () => {
      const answer = await fetch(`${bus.url}/readyz`);
      const body = (await answer.json()) as { status: string; problems?: string[] };
      return answer.status === 503 && body.status === 'damaged' ? body : undefined;
    });
    expect(readiness.problems!.join(' ')).toContain('was deleted while the bus ran');
    expect(bus.recentOutput()).toContain('was deleted while the bus ran');
  });

  it('when bus:repair is given a folder that holds no log, then it says "no store here" and exits 1, making nothing', () => {
    const missing = path.join(makeTempDir('repair-missing-'), 'mistyped');
    const run = spawnSync(process.execPath, [path.join(ROOT, 'event-bus', 'dist', 'repair.js'), '--data-dir', missing], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`No store here: ${missing} holds no event log`);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe("a single NATS server's store", () => {
  let server: NatsNode;
  let dir: string;
  beforeAll(async () => {
    dir = makeTempDir('nats-store-');
    server = (await natsCluster(1, dir))[0]!;
    await server.start();
    const posts = new ServiceProcess('posts', await freePort(), { NATS_URL: server.url, LOG_LEVEL: 'warn' });
    processes.push(posts);
    await posts.start();
    for (let index = 0; index < 5; index += 1) await fetch(`${posts.url}/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: `post ${index}` }) });
  });
  afterAll(() => server?.stop());

  const repair = (storeDir: string, saveDir: string) =>
    spawnSync(process.execPath, [path.join(ROOT, 'event-bus', 'dist', 'natsRepair.js'), '--store-dir', storeDir, '--save-dir', saveDir], { env: { ...process.env, NATS_URL: server.url }, encoding: 'utf8', timeout: 30_000 });

  it('when nats:repair is given a store folder that is not there, then it says "no store here" and exits 1', () => {
    const run = repair(path.join(dir, 'no-such-store'), makeTempDir('nats-save-'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('No store here:');
  });

  it('when the store is deleted under the running server, then nats:repair says so, saves what the server still holds, and changes nothing', () => {
    const storeDir = path.join(dir, 'nats-1');
    fs.rmSync(path.join(storeDir, 'jetstream'), { recursive: true, force: true });
    const saveDir = makeTempDir('nats-save-');

    const run = repair(storeDir, saveDir);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('was deleted under the running nats-server: its 5 events are only in its memory now');
    const saved = fs.readdirSync(saveDir);
    expect(saved).toHaveLength(1);
    expect(fs.readFileSync(path.join(saveDir, saved[0]!), 'utf8').trim().split('\n')).toHaveLength(5);
  });
});
