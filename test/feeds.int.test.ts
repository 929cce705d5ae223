import { LocalSystem, ServiceProcess, freePort } from './support/localSystem';
import { createPost, queryView } from './support/blogApi';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * Feeds that heal, and answers that stay honest when the engine is out of reach: a subscriber the
 * embedded bus cannot deliver to reads the log itself; with NATS down, writes answer 503 at once and the
 * gateway's reads 503 within a second, while the services keep serving what they hold and say so.
 */
jest.setTimeout(120_000);

afterAll(removeTempDirs);

const timed = async <T>(work: () => Promise<T>) => {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
};

describe('the embedded bus, with a subscriber it cannot deliver to', () => {
  const processes: ServiceProcess[] = [];
  afterAll(async () => Promise.all(processes.map((process) => process.stop())));

  it('when the bus cannot reach query, then query reads the log itself: it shows every post within seconds, and stays ready', async () => {
    const dataDir = makeTempDir('feeds-embedded-');
    const [busPort, queryPort] = [await freePort(), await freePort()];
    // The bus delivers to query at a port where nothing listens: every delivery fails.
    const bus = new ServiceProcess('event-bus', busPort, { DATA_DIR: dataDir, LOG_LEVEL: 'warn', SUBSCRIBERS: `query=http://127.0.0.1:${await freePort()}/events`, RETRY_MAX_MS: '500' });
    const query = new ServiceProcess('query', queryPort, { EVENT_BUS_URL: bus.url, LOG_LEVEL: 'warn' });
    processes.push(bus, query);
    await bus.start();
    await query.start();

    const written: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const answer = await fetch(`${bus.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'PostCreated', data: { id: `p${index}`, title: `post ${index}` } }) });
      expect(answer.status).toBe(201);
      written.push(`p${index}`);
    }

    const { ms } = await timed(() => waitFor('query to show every post', async () => Object.keys(await queryView(query.url)).length === written.length, { timeoutMs: 15_000 }));
    console.log(`query, never delivered to, showed all ${written.length} posts after ${(ms / 1000).toFixed(1)} s`);
    expect(ms).toBeLessThan(10_000);
    expect((await fetch(`${query.url}/readyz`)).status).toBe(200);
    // It was the pull: the bus still has not delivered a thing.
    const [entry] = (await (await fetch(`${bus.url}/subscribers`)).json()) as { name: string; position: number; failures: number }[];
    expect(entry).toMatchObject({ name: 'query', position: 0 });
    expect(entry!.failures).toBeGreaterThan(0);
  });
});

describe('NATS out of reach', () => {
  let system: LocalSystem;
  beforeAll(async () => {
    system = await LocalSystem.create({ NATS_PUBLISH_WAIT_MS: '10000' }, { engine: 'nats' });
    await system.startAll();
    expect((await createPost(system.url('posts'), 'before the outage')).status).toBe(201);
    await system.nats[0]!.stop('SIGKILL');
  });
  afterAll(async () => system?.stopAll());

  it('when a post is written, then it is answered 503 within a couple of seconds, saying nothing was sent', async () => {
    const { result, ms } = await timed(() => createPost(system.url('posts'), 'during the outage'));
    expect(result.status).toBe(503);
    expect(JSON.stringify(result.body)).toContain('NATS unreachable');
    expect(ms).toBeLessThan(3_000);
  });

  it.each(['/events?after=0&limit=10', '/events/end', '/subscribers', '/dead-letters'])('when the gateway is asked for %s, then it answers 503 within a second and a half, never a 500 or a hang', async (path) => {
    const { result, ms } = await timed(() => fetch(`${system.url('event-bus')}${path}`));
    expect(result.status).toBe(503);
    expect(((await result.json()) as { error: string }).error).toMatch(/NATS|event log/);
    expect(ms).toBeLessThan(1_500);
  });

  it('when the view is read, then query serves what it holds, and /readyz says ready with the log out of reach', async () => {
    expect(Object.values(await queryView(system.url('query'))).map((post) => post.title)).toEqual(['before the outage']);
    const readiness = await waitFor('query to say the log is out of reach', async () => {
      const answer = await fetch(`${system.url('query')}/readyz`);
      const body = (await answer.json()) as { status: string; engine?: { state: string; detail: string } };
      return answer.status === 200 && body.engine?.state === 'unreachable' ? body : undefined;
    }, { timeoutMs: 10_000 });
    expect(readiness.engine!.detail).toMatch(/out of reach since .*serving the view as of seq 1/);
  });

  it('when NATS is back, then writes are stored again and the view takes them up', async () => {
    await system.nats[0]!.start();
    const post = await waitFor('a write to be stored', async () => {
      const answer = await createPost(system.url('posts'), 'after the outage');
      return answer.status === 201 ? answer : undefined;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    await waitFor('the view to show it', async () => post.body.id in (await queryView(system.url('query'))), { timeoutMs: 15_000 });
  });
});
