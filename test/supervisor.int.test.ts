import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { commentsInView, createComment, createPost, getJson, queryView } from './support/blogApi';
import { CommandGroup } from './support/commandGroup';
import { changesOf, readyRecord, supervisorRecords } from './support/supervisorOutput';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';
import { alive } from './support/processes';

/**
 * The supervisor behind npm start, run from the build with its output piped, on ports of its own
 * (PORT_OFFSET), so it runs beside a system on the default ports: a killed service comes back alone,
 * the control API stops, starts and slows services, and a port held by another program stops it
 * before anything starts.
 */
const ROOT = path.resolve(__dirname, '..');
const SUPERVISE = path.join(ROOT, 'launcher', 'dist', 'supervise.js');
const OFFSET = 10_000;
const at = (port: number) => `http://127.0.0.1:${port + OFFSET}`;
const CONTROL = at(4100);
const POSTS = at(4000);
const COMMENTS = at(4001);
const QUERY = at(4002);
const BUS = at(4005);
jest.setTimeout(120_000);

interface ProcessView {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  nextStartAt: string | null;
}
interface SupervisorView {
  engine: string;
  moderationDelayMs: number;
  processes: ProcessView[];
}

const processes = () => getJson<SupervisorView>(`${CONTROL}/processes`);
const processOf = async (name: string) => (await processes()).processes.find((process) => process.name === name)!;
const control = (route: string, body: unknown = {}) =>
  fetch(`${CONTROL}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PORT_OFFSET: String(OFFSET), DATA_DIR: makeTempDir('supervisor-data-'), LOGS_DIR: makeTempDir('supervisor-logs-'), ...extra };
}

describe('a running system', () => {
  const system = new CommandGroup();

  beforeAll(async () => {
    system.start(process.execPath, [SUPERVISE], env());
    await waitFor('every process to be ready', () => readyRecord(system.stdout), { timeoutMs: 90_000, intervalMs: 100 }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- the supervisor printed:\n${system.output.slice(-3000)}`);
    });
  });

  afterAll(async () => {
    await system.stop();
    removeTempDirs();
  });

  it('when its output is piped, then every line is one JSON object: a state change, or the summary once all are ready', async () => {
    const lines = system.stdout.trim().split('\n');

    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const ready = readyRecord(system.stdout);
    expect(ready).toMatchObject({ engine: 'embedded', control: CONTROL, urls: { posts: `http://localhost:${4000 + OFFSET}`, client: `http://localhost:${3000 + OFFSET}` } });
    expect(supervisorRecords(system.stdout).filter((record) => record.type === 'log')).toEqual([]);
    expect(changesOf(system.stdout, 'posts').slice(0, 2)).toMatchObject([
      { state: 'starting', pid: expect.any(Number), restarts: 0 },
      { state: 'ready', url: `http://localhost:${4000 + OFFSET}` },
    ]);
  });

  it('when a service is killed with SIGKILL, then it alone is started again, the others untouched, and the restart is shown', async () => {
    const before = await processes();
    const posts = before.processes.find((process) => process.name === 'posts')!;

    process.kill(posts.pid!, 'SIGKILL');
    const after = await waitFor('posts to be ready again', async () => {
      const view = await processes();
      const again = view.processes.find((process) => process.name === 'posts')!;
      return again.state === 'ready' && again.pid !== posts.pid && view;
    });

    expect(after.processes.find((process) => process.name === 'posts')).toMatchObject({
      restarts: posts.restarts + 1,
      lastExit: { code: null, signal: 'SIGKILL', at: expect.any(String) },
      nextStartAt: null,
    });
    for (const other of before.processes.filter((process) => process.name !== 'posts')) {
      expect(after.processes.find((process) => process.name === other.name)).toMatchObject({ pid: other.pid, state: 'ready', restarts: other.restarts });
    }
    const restart = changesOf(system.stdout, 'posts').filter((change) => change.state !== 'starting' || change.restarts! > 0);
    expect(restart.slice(-4)).toMatchObject([
      { state: 'crashed', exit: { signal: 'SIGKILL', pid: posts.pid } },
      { state: 'backing-off', restartInMs: 500 },
      { state: 'starting', restarts: posts.restarts + 1 },
      { state: 'ready' },
    ]);
    expect((await createPost(POSTS, 'After a restart')).status).toBe(201);
  });

  it('when a service is stopped through the control API, then it stays stopped while the others go on, until it is started', async () => {
    const stopped = await control('/processes/query/stop');
    expect(stopped.status).toBe(202);
    expect(await stopped.json()).toEqual({ name: 'query', state: 'stopping' });
    await waitFor('query to be stopped', async () => (await processOf('query')).state === 'stopped');

    // Time passes in a way the test can see: a post is written, and the bus fails to deliver it to query.
    const post = await createPost(POSTS, 'While query is down');
    expect(post.status).toBe(201);
    await waitFor('the bus to have failed to reach query', async () => {
      const subscribers = await getJson<{ url: string; failures: number }[]>(`${BUS}/subscribers`);
      return subscribers.some((subscriber) => subscriber.url.includes(String(4002 + OFFSET)) && subscriber.failures > 0);
    });
    expect(await processOf('query')).toMatchObject({ state: 'stopped', pid: null, nextStartAt: null, lastExit: { code: 0, signal: null } });
    expect((await processOf('posts')).state).toBe('ready');

    const started = await control('/processes/query/start');
    expect(started.status).toBe(202);
    expect(await started.json()).toEqual({ name: 'query', state: 'starting' });
    await waitFor('query to be ready', async () => (await processOf('query')).state === 'ready');
    await waitFor('the post written meanwhile in the view', async () => post.body.id in (await queryView(QUERY)));
    expect(changesOf(system.stdout, 'query').map((change) => change.state).slice(-4)).toEqual(['stopping', 'stopped', 'starting', 'ready']);
  });

  it('when the moderation delay is set, then moderation restarts with it and a comment stays pending at least that long', async () => {
    const delayMs = 1_500;
    const moderationBefore = await processOf('moderation');

    const answer = await control('/moderation/delay', { ms: delayMs });
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ name: 'moderation', moderationDelayMs: delayMs });
    await waitFor('moderation to be ready again', async () => {
      const moderation = await processOf('moderation');
      return moderation.state === 'ready' && moderation.pid !== moderationBefore.pid;
    });
    expect((await processes()).moderationDelayMs).toBe(delayMs);

    const post = await createPost(POSTS, 'Slow moderation');
    const sent = Date.now();
    const comment = await createComment(COMMENTS, post.body.id, 'Worth the wait');
    expect(comment.body.status).toBe('pending');
    await waitFor('the verdict', async () => commentsInView(await queryView(QUERY)).get(comment.body.id)?.status === 'approved', { timeoutMs: 30_000 });

    // A lower bound only: the verdict cannot come sooner than the delay, however slow the machine.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(delayMs);
    expect(await processOf('moderation')).toMatchObject({ restarts: moderationBefore.restarts });
    expect((await control('/moderation/delay', { ms: 0 })).status).toBe(202);
  });

  it('when the control API gets what it cannot do, then it answers 400, 404 or 409 with a JSON error', async () => {
    const cases: [string, unknown, number][] = [
      ['/moderation/delay', { ms: 10_001 }, 400],
      ['/moderation/delay', { ms: 'soon' }, 400],
      ['/moderation/delay', '{"ms":', 400],
      ['/processes/nobody/stop', {}, 404],
      ['/processes/nats/start', {}, 404],
      ['/processes/client/stop', {}, 409],
    ];
    for (const [route, body, status] of cases) {
      const answer = await control(route, body);
      expect({ route, status: answer.status }).toEqual({ route, status });
      expect(await answer.json()).toMatchObject({ error: expect.any(String), details: expect.any(Array) });
    }
    expect((await processOf('client')).state).toBe('ready');
    expect((await processes()).moderationDelayMs).toBe(0);
  });
});

describe('a supervisor that dies of a signal it does not handle', () => {
  const system = new CommandGroup();
  afterAll(async () => {
    await system.stop();
    removeTempDirs();
  });

  it('when it gets SIGUSR2, then on its way out it kills every process, and none is left', async () => {
    system.start(process.execPath, [SUPERVISE], env());
    const ready = await waitFor('every process to be ready', () => readyRecord(system.stdout), { timeoutMs: 90_000, intervalMs: 100 });
    const pids = (await processes()).processes.map((process) => process.pid!);

    system.signal('SIGUSR2');

    expect(await system.exited()).toMatchObject({ signal: 'SIGUSR2' });
    expect(ready.pid).toBe(system.pid);
    await waitFor('every process to be gone', () => pids.every((pid) => !alive(pid)));
  });
});

describe('a port held by another program', () => {
  const run = promisify(execFile);
  let holder: net.Server;

  beforeAll(async () => {
    holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(4001 + OFFSET, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
    removeTempDirs();
  });

  it('when the supervisor starts, then it names the port, who wanted it and how to find the holder, and exits 1 having started nothing', async () => {
    const failed = await run(process.execPath, [SUPERVISE], { env: { ...process.env, ...env() }, timeout: 30_000 }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe('');
    const [problem] = supervisorRecords(failed?.stderr ?? '');
    expect(problem).toMatchObject({
      type: 'error',
      message: expect.stringContaining(`port ${4001 + OFFSET} (comments)`),
      ports: [{ port: 4001 + OFFSET, wantedBy: 'comments', find: `ss -ltnp 'sport = :${4001 + OFFSET}'` }],
    });
    expect(problem?.message).toContain('Nothing was started');
    expect(failed?.stderr).not.toMatch(/"type":"(process|ready)"/);
  });

  it('when the output is a terminal\'s text, then the same is said in words', async () => {
    const failed = await run(process.execPath, [SUPERVISE, '--output', 'text'], { env: { ...process.env, ...env() }, timeout: 30_000 }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`port ${4001 + OFFSET} (comments): see which program holds it with  ss -ltnp 'sport = :${4001 + OFFSET}'`);
    expect(failed?.stdout).not.toContain('ready');
  });
});
