import { execFileSync, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { getJson } from './support/blogApi';
import { CommandGroup } from './support/commandGroup';
import { readyRecord } from './support/supervisorOutput';
import { alive } from './support/processes';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * A local run stays on the machine and owns its data: under npm start (the supervisor itself) every
 * process listens on loopback only, the flow page forwards the supervisor's controls only to this
 * machine, a second run on the same data folder starts nothing, a PORT_OFFSET that lands on a port
 * fetch refuses starts nothing, and the processes stop when the supervisor dies, however it dies.
 */
const ROOT = path.resolve(__dirname, '..');
const SUPERVISE = path.join(ROOT, 'launcher', 'dist', 'supervise.js');
const OFFSET = 12_000;
const port = (base: number) => base + OFFSET;
jest.setTimeout(120_000);

afterAll(removeTempDirs);

/** This machine's own addresses other than loopback, where another machine would reach it. */
const outsideAddresses = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && address.family === 'IPv4' && !address.internal)
    .map((address) => address!.address);

describe('npm start on a data folder of its own', () => {
  const system = new CommandGroup();
  const dataDir = makeTempDir('local-run-data-');
  let pids: number[] = [];

  beforeAll(async () => {
    system.start(process.execPath, [SUPERVISE], { PORT_OFFSET: String(OFFSET), DATA_DIR: dataDir, LOGS_DIR: makeTempDir('local-run-logs-') });
    await waitFor('every process to be ready', () => readyRecord(system.stdout), { timeoutMs: 90_000, intervalMs: 100 });
    const view = await getJson<{ processes: { name: string; pid: number | null }[] }>(`http://127.0.0.1:${port(4100)}/processes`);
    pids = view.processes.flatMap((process) => (process.pid ? [process.pid] : []));
    expect(pids).toHaveLength(6);
  });

  afterAll(() => system.stop());

  it('when the services run, then each listens on loopback only: not on the machine\'s other addresses', async () => {
    const listening = execFileSync('ss', ['-Hltn'], { encoding: 'utf8' });
    for (const base of [4000, 4001, 4002, 4003, 4005, 3000]) {
      const lines = listening.split('\n').filter((line) => line.includes(`:${port(base)} `));
      expect([base, lines.map((line) => line.trim().split(/\s+/)[3])]).toEqual([base, [`127.0.0.1:${port(base)}`]]);
    }
    for (const address of outsideAddresses()) {
      const answered = await fetch(`http://${address}:${port(4000)}/healthz`, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);
      expect([address, answered]).toEqual([address, false]);
    }
  });

  it.each([
    ['a foreign Host and no Origin', { host: `attacker.example:${port(3000)}` }],
    ['a DNS-rebinding page: Host and Origin both the attacker\'s name', { host: `attacker.example:${port(3000)}`, origin: `http://attacker.example:${port(3000)}` }],
    ['a loopback Host on another port', { host: `localhost:${port(3001)}` }],
    ['an Origin of another page', { host: `localhost:${port(3000)}`, origin: 'http://localhost:8080' }],
  ])('when a control request through the client has %s, then it is refused and nothing is stopped', async (_name, headers) => {
    // Through node:http, which sends the Host it is given (fetch sets its own).
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: port(3000), method: 'POST', path: '/flow/api/control/processes/moderation/stop', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end('{}');
    });
    expect(status).toBe(403);
    const view = await getJson<{ processes: { name: string; state: string }[] }>(`http://127.0.0.1:${port(4100)}/processes`);
    expect(view.processes.find((process) => process.name === 'moderation')!.state).toBe('ready');
  });

  it('when a control request names a process with a malformed percent-encoding, then it answers 400, not 500', async () => {
    const direct = await fetch(`http://127.0.0.1:${port(4100)}/processes/%E0%A4%A/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(direct.status).toBe(400);
    const throughClient = await fetch(`http://127.0.0.1:${port(3000)}/flow/api/control/processes/%E0%A4%A/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(throughClient.status).toBe(400);
  });

  it('when a second run is started on the same data folder (another PORT_OFFSET), then it starts nothing and names the folder and the way out', () => {
    const second = spawnSync(process.execPath, [SUPERVISE], { env: { ...process.env, PORT_OFFSET: String(OFFSET + 2000), DATA_DIR: dataDir, LOGS_DIR: makeTempDir('second-run-logs-') }, encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(1);
    expect(second.stdout + second.stderr).toContain(`the data folder ${dataDir} is in use by another run (pid ${system.pid})`);
    expect(second.stdout + second.stderr).toContain('PORT_OFFSET=10000 npm start gives it event-bus/data-10000/');
    // The first goes on.
    expect(alive(pids[0]!)).toBe(true);
  });

  it('when the supervisor is killed with SIGKILL, then every process it started stops too', async () => {
    process.kill(system.pid, 'SIGKILL');
    await waitFor('every child to be gone', () => pids.every((pid) => !alive(pid)), { timeoutMs: 20_000, intervalMs: 200 });
  });
});

describe('starting on ports fetch refuses', () => {
  it('when PORT_OFFSET puts posts on 6000, then nothing is started and the port is named', () => {
    const run = spawnSync(process.execPath, [SUPERVISE], { env: { ...process.env, PORT_OFFSET: '2000', DATA_DIR: makeTempDir('bad-port-data-') }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toContain("Node's fetch refuses to connect to port 6000 (posts)");
  });
});

describe('a service whose output nobody reads any more', () => {
  it('when it is sent SIGTERM after its reader went away, then it exits', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'posts', 'dist', 'index.js')], {
      env: { ...process.env, PORT: String(port(4900)), HOST: '127.0.0.1', EVENT_BUS_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.stdout!.destroy();
    child.stderr!.destroy();
    // It goes on logging into the closed pipe.
    for (let request = 0; request < 20; request += 1) await fetch(`http://127.0.0.1:${port(4900)}/posts`).catch(() => undefined);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await expect(Promise.race([exited.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))])).resolves.toBe('exited');
  });
});
