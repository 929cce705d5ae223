import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CrashLoopBackOff } from '../src/supervisor/backoff';
import type { ProcessSpec } from '../src/supervisor/plan';
import { ProcessOutput } from '../src/supervisor/processOutput';
import { SupervisedProcess, type StateChange } from '../src/supervisor/supervisedProcess';
import { freePort } from '../src/ports';
import { waitFor } from '../src/waitFor';
import { alive } from '../../test/support/processes';

/**
 * One supervised process, with small stand-in programs on loopback ports: restarted with backoff when
 * it crashes, stopped and left stopped when asked, killed when it will not stop, and its group with it.
 */
jest.setTimeout(30_000);

const dirs: string[] = [];
const running: SupervisedProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop(500)));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A program that answers /readyz on `port`, and does what `behaviour` adds: JavaScript run at its start,
 * with `port` defined.
 */
function program(port: number, behaviour = ''): string {
  return `
    const port = ${port};
    require('node:http').createServer((q, s) => s.end('ok')).listen(port, '127.0.0.1');
    process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
    ${behaviour}
  `;
}

async function supervise(source: string, options: { backoff?: CrashLoopBackOff; port?: number; command?: string } = {}) {
  const port = options.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supervised-'));
  dirs.push(dir);
  const spec: ProcessSpec = {
    name: 'posts',
    url: `http://localhost:${port}`,
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    command: options.command ?? process.execPath,
    args: ['-e', source],
    cwd: dir,
    env: { ...process.env, SETTING: 'first' },
  };
  const changes: StateChange[] = [];
  const output = new ProcessOutput(path.join(dir, 'posts.log'), null);
  const supervised = new SupervisedProcess({ spec, output, onChange: (change) => changes.push(change), backoff: options.backoff, probeEveryMs: 20 });
  running.push(supervised);
  const states = () => changes.map((change) => change.state);
  return { supervised, changes, states, output, port, logFile: path.join(dir, 'posts.log') };
}

describe('a supervised process', () => {
  it('when started, then it is starting until its readiness URL answers, then ready', async () => {
    const port = await freePort();
    const { supervised, states } = await supervise(`setTimeout(() => { ${program(port)} }, 300)`, { port });

    supervised.start();
    expect(supervised.state).toBe('starting');
    await waitFor('ready', () => supervised.state === 'ready');

    expect(states()).toEqual(['starting', 'ready']);
    expect(supervised.view()).toMatchObject({ state: 'ready', restarts: 0, lastExit: null, nextStartAt: null, pid: expect.any(Number) });
  });

  it('when it is killed, then it is started again after the backoff, the restart counted and shown', async () => {
    const port = await freePort();
    const { supervised, changes, states } = await supervise(program(port), { port, backoff: new CrashLoopBackOff({ initialMs: 50, maxMs: 1_000, resetAfterMs: 60_000 }) });
    supervised.start();
    await waitFor('ready', () => supervised.state === 'ready');
    const firstPid = supervised.pid!;

    process.kill(firstPid, 'SIGKILL');
    await waitFor('ready again', () => supervised.state === 'ready' && supervised.pid !== firstPid);

    expect(states()).toEqual(['starting', 'ready', 'crashed', 'backing-off', 'starting', 'ready']);
    expect(changes[2]).toMatchObject({ exit: { code: null, signal: 'SIGKILL', pid: firstPid } });
    expect(changes[3]).toMatchObject({ restartInMs: 50, nextStartAt: expect.any(String) });
    expect(changes[4]).toMatchObject({ restarts: 1 });
    expect(supervised.view()).toMatchObject({ restarts: 1, lastExit: { code: null, signal: 'SIGKILL', at: expect.any(String) }, nextStartAt: null });
  });

  it('when it exits at every start, then each wait is longer than the last, and its last words are kept', async () => {
    const { supervised, changes, output } = await supervise('console.error("cannot start: bad setting"); process.exit(3)', {
      backoff: new CrashLoopBackOff({ initialMs: 20, maxMs: 80, resetAfterMs: 60_000 }),
    });
    supervised.start();
    const waits = () => changes.filter((change) => change.state === 'backing-off').map((change) => change.restartInMs);

    await waitFor('four crashes', () => waits().length >= 4);

    expect(waits().slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(changes.find((change) => change.state === 'crashed')).toMatchObject({ exit: { code: 3, signal: null, lastOutput: ['cannot start: bad setting'] } });
    expect(changes.some((change) => change.state === 'ready')).toBe(false);
    // The same line at every start is kept once, with how many times it came.
    expect(output.lastLines(1)).toEqual(['cannot start: bad setting', expect.stringMatching(/^\(the line above came \d+ times, differing only in its numbers\)$/)]);
  });

  it('when asked to stop, then it gets SIGTERM, and it stays stopped', async () => {
    const port = await freePort();
    const { supervised, states, output } = await supervise(program(port), { port, backoff: new CrashLoopBackOff({ initialMs: 1, maxMs: 1, resetAfterMs: 1 }) });
    supervised.start();
    await waitFor('ready', () => supervised.state === 'ready');

    await supervised.stop(5_000);

    expect(states()).toEqual(['starting', 'ready', 'stopping', 'stopped']);
    expect(supervised.view()).toMatchObject({ state: 'stopped', pid: null, lastExit: { code: 0, signal: null }, nextStartAt: null, restarts: 0 });
    expect(output.lastLines(1)).toEqual(['got SIGTERM']);
  });

  it('when stopped while waiting out its backoff, then it is not started again', async () => {
    const { supervised, states } = await supervise('process.exit(1)', { backoff: new CrashLoopBackOff({ initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 }) });
    supervised.start();
    await waitFor('backing off', () => supervised.state === 'backing-off');

    await supervised.stop(1_000);

    expect(states()).toEqual(['starting', 'crashed', 'backing-off', 'stopped']);
    expect(supervised.view().nextStartAt).toBeNull();
  });

  it('when it ignores SIGTERM, then it gets SIGKILL after the grace period', async () => {
    const port = await freePort();
    const { supervised } = await supervise(`${program(port)}; process.removeAllListeners('SIGTERM'); process.on('SIGTERM', () => console.log('ignoring SIGTERM'));`, { port });
    supervised.start();
    await waitFor('ready', () => supervised.state === 'ready');

    await supervised.stop(300);

    expect(supervised.view()).toMatchObject({ state: 'stopped', lastExit: { code: null, signal: 'SIGKILL' } });
  });

  it('when it leaves a child behind, then the child goes with it', async () => {
    const port = await freePort();
    const grandchild = `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }).pid`;
    const { supervised, output } = await supervise(`${program(port)}; console.log('grandchild ' + ${grandchild});`, { port });
    supervised.start();
    await waitFor('ready', () => supervised.state === 'ready');
    const grandchildPid = Number((await waitFor('its child', () => output.lastLines(5).find((line) => line.startsWith('grandchild'))))?.split(' ')[1]);
    expect(alive(grandchildPid)).toBe(true);

    process.kill(supervised.pid!, 'SIGKILL');

    await waitFor('the child to be gone', () => !alive(grandchildPid));
  });

  it('when restarted for a new setting, then it starts again at once with it, and that is no crash', async () => {
    const port = await freePort();
    const { supervised, states, output } = await supervise(`${program(port)}; console.log('SETTING=' + process.env.SETTING);`, { port });
    supervised.start();
    await waitFor('ready', () => supervised.state === 'ready');

    supervised.setEnv({ SETTING: 'second' });
    await supervised.restart(5_000);
    await waitFor('ready again', () => supervised.state === 'ready');

    expect(states()).toEqual(['starting', 'ready', 'stopping', 'starting', 'ready']);
    expect(output.lastLines(1)).toEqual(['SETTING=second']);
    expect(supervised.view().restarts).toBe(0);
  });

  it('when its command does not exist, then that is a crash like any other, and says why', async () => {
    const { supervised, changes } = await supervise('', { command: '/nowhere/program' });
    supervised.start();

    await waitFor('a crash', () => changes.some((change) => change.state === 'crashed'));

    // Said by the supervisor, or by setpriv, which runs each program on Linux so it dies with the supervisor.
    expect(changes.find((change) => change.state === 'crashed')?.exit?.lastOutput.join('\n')).toMatch(/could not start \/nowhere\/program|failed to execute \/nowhere\/program/);
  });

  it('when its output is written, then it lands in its log file', async () => {
    const { supervised, logFile, output } = await supervise('console.log("hello log"); setInterval(() => {}, 1000)');
    supervised.start();

    await waitFor('the line', () => output.lastLines(1)[0] === 'hello log');
    await waitFor('the file', () => fs.readFileSync(logFile, 'utf8').includes('hello log\n'));
  });
});
