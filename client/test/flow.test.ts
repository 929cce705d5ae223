import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Lifecycle } from '@blog/service-kit';
import request from 'supertest';
import { createApp } from '../src/app';
import { configSchema } from '../src/config';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { FlowHub, createFlow, type FlowHubLimits } from '../src/flow';
import { BusReader } from '../src/flow/busReader';
import { FlowHttp } from '../src/flow/upstream';
import type { EventsMessage, FlowSnapshot, NoSupervisorAnswer } from '../src/flow/wire';
import { ApiProxy } from '../src/proxy';
import { freePort } from '../../test/support/localSystem';
import { silentLogger } from '../../test/support/silentLogger';
import { makeTempDir, removeTempDirs } from '../../test/support/tempDirs';
import { waitFor } from '../../test/support/waitFor';
import { FakeBus, FakeSupervisor, StandIn, openStream, readyService, sendJson, subscriberStatus, type OpenStream } from './flowStandIns';

const bus = new FakeBus();
let moderationReady: () => boolean | { status: string; problems?: string[]; action?: string } = () => true;
const services = {
  posts: readyService(),
  comments: readyService(),
  moderation: readyService(() => moderationReady()),
  query: readyService(),
};
const supervisor = new FakeSupervisor();
const closers: (() => Promise<void> | void)[] = [];
/** Runs `close` after the current test, passed or failed. */
const afterThis = (close: () => Promise<void> | void) => closers.push(close);
const streams: OpenStream[] = [];

beforeAll(async () => {
  await Promise.all([bus.start(), supervisor.start(), ...Object.values(services).map((service) => service.start())]);
});

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(closers.splice(0).map((close) => close()));
});

afterAll(async () => {
  await Promise.all([bus.stop(), supervisor.stop(), ...Object.values(services).map((service) => service.stop())]);
  removeTempDirs();
});

beforeEach(() => {
  bus.asked.length = 0;
  bus.events = [];
  bus.tokens = null;
  bus.retried = [];
  bus.deadLetters = [];
  bus.subscribers = [
    subscriberStatus('posts', `${services.posts.url}/events`, { types: ['PostCreated'] }),
    subscriberStatus('moderation', `${services.moderation.url}/events`, { types: ['CommentCreated'], position: 7, lag: 3 }),
    subscriberStatus('query', `${services.query.url}/events`, { types: [] }),
  ];
  supervisor.asked.length = 0;
  moderationReady = () => true;
});

interface SetUpOptions {
  local?: boolean;
  busUrl?: string;
  busToken?: string;
  limits?: Partial<FlowHubLimits>;
}

/** The client server as index.ts builds it, over the stand-ins; `listen` for the stream. */
function setUp({ local = false, busUrl, busToken, limits }: SetUpOptions = {}) {
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const flow = createFlow({
    lifecycle,
    logger: silentLogger,
    urls: {
      'event-bus': busUrl ?? bus.url,
      posts: services.posts.url,
      comments: services.comments.url,
      moderation: services.moderation.url,
      query: services.query.url,
    },
    busToken,
    supervisorUrl: local ? supervisor.url : undefined,
    connectTimeoutMs: 300,
    timeoutMs: 1_000,
    snapshotMaxAgeMs: 0,
    limits: { pollMs: 50, catchUpMs: 10, snapshotMs: 100, ...limits },
  });
  const proxy = new ApiProxy({ logger: silentLogger, lifecycle, timeoutMs: 1_000, connectTimeoutMs: 300 });
  const upstreams = Object.fromEntries(['posts', 'comments', 'query'].map((name) => [name, { name, url: services[name as 'posts'].url }])) as never;
  const app = createApp({ lifecycle, logger: silentLogger, upstreams, proxy, staticDir: makeTempDir('blog-flow-build-'), flow });
  closers.push(() => flow.close(), () => proxy.close());
  return { app, flow, lifecycle };
}

async function listen(app: http.RequestListener): Promise<string> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stream(base: string): Promise<OpenStream> {
  const opened = await openStream(`${base}/flow/api/stream`);
  streams.push(opened);
  return opened;
}

const eventsOf = (opened: OpenStream) => opened.messages.filter((message) => message.event === 'events').map((message) => message.data as EventsMessage);
const seqsOf = (opened: OpenStream) => eventsOf(opened).flatMap((message) => message.events.map((event) => event.seq));

describe('the snapshot', () => {
  it('when every part answers, then it shows each service\'s readiness, the subscribers with their service, dead letters and the log\'s end', async () => {
    moderationReady = () => ({ status: 'starting', problems: ['replaying the log: 120 of 500 events'] });
    bus.deadLetters = [{ subscriber: `${services.moderation.url}/events`, seq: 4, id: 'event-4', type: 'CommentCreated', attempts: 10, lastError: 'answered 500', parkedAt: '2026-01-01T12:00:00.000Z' }];
    bus.append(10);
    const { app } = setUp();

    const response = await request(app).get('/flow/api/snapshot');

    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const snapshot = response.body as FlowSnapshot;
    expect(snapshot).toMatchObject({
      mode: 'cluster',
      engine: 'embedded',
      lastSeq: 10,
      supervisor: null,
      problems: [],
      deadLetters: [{ seq: 4, type: 'CommentCreated', attempts: 10 }],
      // Every service is listed by the bus: none reads the log by itself.
      streamReaders: [],
    });
    expect(snapshot.services).toEqual([
      { name: 'event-bus', state: 'ready', reason: null },
      { name: 'posts', state: 'ready', reason: null },
      { name: 'comments', state: 'ready', reason: null },
      { name: 'moderation', state: 'not-ready', reason: 'starting: replaying the log: 120 of 500 events' },
      { name: 'query', state: 'ready', reason: null },
    ]);
    expect(snapshot.subscribers).toEqual([
      expect.objectContaining({ service: 'posts', types: ['PostCreated'], lag: 0 }),
      expect.objectContaining({ service: 'moderation', position: 7, lag: 3, id: `${services.moderation.url}/events` }),
      expect.objectContaining({ service: 'query', types: null }),
    ]);
  });

  it('when the bus lists NATS durable consumers, then the engine and each consumer\'s service are the ones the bus names, and the services that read the stream themselves come with the types they apply', async () => {
    const nats = { engine: 'nats' };
    bus.subscribers = [subscriberStatus('comments', 'comments', nats), subscriberStatus('moderation', 'moderation', { ...nats, types: ['CommentCreated'] })];
    const { app } = setUp();
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(snapshot.engine).toBe('nats');
    expect(snapshot.subscribers!.map((subscriber) => subscriber.service)).toEqual(['comments', 'moderation']);
    expect(snapshot.streamReaders).toEqual([
      { service: 'posts', types: ['PostCreated'] },
      { service: 'comments', types: ['PostCreated', 'CommentCreated', 'CommentModerated'] },
      { service: 'query', types: ['PostCreated', 'CommentCreated', 'CommentUpdated'] },
    ]);
  });

  it('when a subscriber is configured by URL alone, then the page shows it without a service rather than guessing one', async () => {
    bus.subscribers = [subscriberStatus(null, `${services.query.url}/events`)];
    const { app } = setUp();
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(snapshot.subscribers).toEqual([expect.objectContaining({ id: `${services.query.url}/events`, service: null })]);
  });

  it('when a supervisor runs the processes, then the mode is local and its processes and moderation delay are in the snapshot', async () => {
    supervisor.moderationDelayMs = 3000;
    const { app } = setUp({ local: true });
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(snapshot.mode).toBe('local');
    expect(snapshot.supervisor).toMatchObject({ engine: 'embedded', moderationDelayMs: 3000, processes: expect.arrayContaining([expect.objectContaining({ name: 'moderation', state: 'ready' })]) });
    supervisor.moderationDelayMs = 0;
  });

  it('when the bus is down, then the snapshot still answers, saying the bus is down and what could not be read', async () => {
    const { app } = setUp({ busUrl: `http://127.0.0.1:${await freePort()}` });
    const started = Date.now();
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(snapshot.services[0]).toEqual({ name: 'event-bus', state: 'down', reason: 'not answering' });
    expect(snapshot).toMatchObject({ subscribers: null, deadLetters: null, lastSeq: null, engine: 'unknown' });
    expect(snapshot.problems).toEqual([
      expect.stringMatching(/^Cannot read the subscribers: the event-bus service is unavailable/),
      expect.stringMatching(/^Cannot read the dead letters: the event-bus service is unavailable/),
    ]);
  });

  it('when the bus checks credentials, then the client reads with its own token', async () => {
    bus.tokens = new Map([['client-token-0123456789', 'client']]);
    const { app } = setUp({ busToken: 'client-token-0123456789' });
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(snapshot.problems).toEqual([]);
    const reads = bus.asked.filter((asked) => asked.url !== '/readyz');
    expect(reads.map((asked) => asked.url).sort()).toEqual(['/dead-letters', '/events/end', '/subscribers']);
    expect(reads.every((asked) => asked.headers.authorization === 'Bearer client-token-0123456789')).toBe(true);
  });

  it('when the client has no token and the bus wants one, then the problem says to set BUS_TOKEN', async () => {
    bus.tokens = new Map([['client-token-0123456789', 'client']]);
    const { app } = setUp();
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(snapshot.problems[0]).toContain('BUS_TOKEN');
  });
});

describe('reading the log', () => {
  it('when a page is asked for, then the bus is asked for the same page and the events come back whole', async () => {
    bus.append(5);
    const { app } = setUp();
    const response = await request(app).get('/flow/api/events?after=2&limit=2').expect(200);
    expect(response.body.map((event: { seq: number }) => event.seq)).toEqual([3, 4]);
    expect(response.body[0]).toMatchObject({ id: 'event-3', source: '/comments', requestid: 'req-3', data: { id: 'c-3' } });
    expect(bus.asked.at(-1)!.url).toBe('/events?after=2&limit=2');
  });

  it.each(['limit=501', 'after=-1', 'limit=abc', 'other=1'])('when the query is %s, then it answers 400 without asking the bus', async (query) => {
    const { app } = setUp();
    const response = await request(app).get(`/flow/api/events?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid query', details: expect.any(Array) });
    expect(bus.asked).toEqual([]);
  });

  it('when the bus is down, then a JSON 503 names it', async () => {
    const { app } = setUp({ busUrl: `http://127.0.0.1:${await freePort()}` });
    const response = await request(app).get('/flow/api/events');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ error: expect.stringContaining('event-bus service is unavailable'), details: [] });
  });

  it('when the bus is too slow, then a JSON 504 says so', async () => {
    const slow = await new StandIn(() => undefined).start();
    closers.push(() => slow.stop());
    const { app } = setUp({ busUrl: slow.url });
    const response = await request(app).get('/flow/api/events');
    expect(response.status).toBe(504);
    expect(response.body.error).toMatch(/event-bus service did not answer within 1 s/);
  });

  it('when the log has gaps (seqs lost to a repair), then its end is the bus\'s answer, in one read', async () => {
    bus.events = [1, 2, 3, 7, 8, 20, 21, 22, 1000, 1001].map((seq) => ({ ...bus.append(1)[0]!, seq }));
    bus.events = bus.events.slice(-10);
    const reader = new BusReader(new FlowHttp({ connectTimeoutMs: 300, timeoutMs: 1_000 }), bus.url, undefined);
    expect(await reader.lastSeq()).toBe(1001);
    expect(bus.asked.map((asked) => asked.url)).toEqual(['/events/end']);
    bus.events = [];
    expect(await reader.lastSeq()).toBe(0);
  });
});

describe('the live stream', () => {
  it('when a viewer connects, then it gets the recent events (marked recent) from the log\'s end, then each new event once', async () => {
    bus.append(250);
    const { app } = setUp();
    const viewer = await stream(await listen(app));
    expect(viewer.status).toBe(200);
    await waitFor('the recent events', () => eventsOf(viewer).length > 0);
    const [first] = eventsOf(viewer);
    expect(first!.recent).toBe(true);
    expect(first!.events.map((event) => event.seq)).toEqual(Array.from({ length: 100 }, (_, index) => 151 + index));

    bus.append(3);
    await waitFor('the new events', () => seqsOf(viewer).includes(253));
    expect(seqsOf(viewer).slice(-3)).toEqual([251, 252, 253]);
    expect(eventsOf(viewer).at(-1)!.recent).toBeUndefined();
    await waitFor('a snapshot', () => viewer.messages.some((message) => message.event === 'snapshot'));
  });

  it('when many viewers watch, then ONE poller reads the log for all of them, and it stops with the last viewer', async () => {
    bus.append(5);
    const { app, flow } = setUp({ limits: { pollMs: 100 } });
    const base = await listen(app);
    const viewers = await Promise.all(Array.from({ length: 5 }, () => stream(base)));
    await waitFor('every viewer has the recent events', () => viewers.every((viewer) => seqsOf(viewer).includes(5)));

    bus.asked.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // One poller at 100 ms: about ten reads in a second, not fifty.
    expect(bus.pageReads.length).toBeGreaterThanOrEqual(5);
    expect(bus.pageReads.length).toBeLessThanOrEqual(12);
    const snapshotsRead = bus.asked.filter((asked) => asked.url === '/subscribers').length;
    expect(snapshotsRead).toBeLessThanOrEqual(12);

    bus.append(1);
    await waitFor('every viewer has the new event', () => viewers.every((viewer) => seqsOf(viewer).includes(6)));
    for (const viewer of viewers) expect(seqsOf(viewer).filter((seq) => seq === 6)).toHaveLength(1);

    // One leaves: the others go on.
    viewers[0]!.close();
    await waitFor('the viewer to be gone', () => flow.hub.viewerCount === 4);
    bus.append(1);
    await waitFor('the others have the next event', () => viewers.slice(1).every((viewer) => seqsOf(viewer).includes(7)));

    for (const viewer of viewers.slice(1)) viewer.close();
    await waitFor('the poller to stop', () => flow.hub.viewerCount === 0 && !flow.hub.isPolling);
    await new Promise((resolve) => setTimeout(resolve, 150));
    bus.asked.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(bus.asked).toEqual([]);
  });

  it('when the viewers are all taken, then one more is refused with a JSON 503', async () => {
    const { app } = setUp({ limits: { maxViewers: 2 } });
    const base = await listen(app);
    await stream(base);
    await stream(base);
    const refused = await request(app).get('/flow/api/stream');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.error).toContain('too many open flow streams');
  });

  it('when the log races far ahead of the stream, then it jumps to the end and says how much it left out', async () => {
    bus.append(10);
    const { app } = setUp({ limits: { pageSize: 20, history: 10, skipBehind: 100, pollMs: 200, catchUpMs: 200 } });
    const viewer = await stream(await listen(app));
    await waitFor('the recent events', () => seqsOf(viewer).includes(10));
    bus.append(1_000);
    const skipped = await waitFor('the jump', () => eventsOf(viewer).find((message) => message.skipped)?.skipped);
    expect(skipped.upTo).toBe(990);
    await waitFor('the newest event', () => seqsOf(viewer).includes(1_010));
    expect(seqsOf(viewer).length).toBeLessThan(200);
  });

  it('when the bus is down, then the stream stays open and snapshots say so; when it is back, events flow', async () => {
    const port = await freePort();
    const { app } = setUp({ busUrl: `http://127.0.0.1:${port}` });
    const viewer = await stream(await listen(app));
    const snapshot = await waitFor('a snapshot', () => viewer.messages.find((message) => message.event === 'snapshot')?.data as FlowSnapshot | undefined);
    expect(snapshot.services[0]!.state).toBe('down');

    const revived = new FakeBus();
    revived.append(3);
    await new Promise<void>((resolve) => (revived as unknown as { server: http.Server }).server.listen(port, '127.0.0.1', () => resolve()));
    closers.push(() => revived.stop());
    await waitFor('events after the bus is back', () => seqsOf(viewer).includes(3), { timeoutMs: 8_000 });
  });

  it('when the server drains, then the streams end', async () => {
    const { app, lifecycle } = setUp();
    const viewer = await stream(await listen(app));
    lifecycle.markDraining();
    await viewer.ended;
  });
});

describe('a viewer that stops reading', () => {
  /** A response that never drains: what it was sent piles up in writableLength. */
  class StuckViewer extends EventEmitter {
    writableLength = 0;
    destroyed = false;
    writeHead() {
      return this;
    }
    write(text: string) {
      this.writableLength += text.length;
      return false;
    }
    end() {
      this.emit('close');
    }
    destroy() {
      this.destroyed = true;
      this.emit('close');
    }
  }

  it('when a viewer leaves far more than the limit unread, then it is dropped and the others keep getting events', async () => {
    let events = [{ seq: 1, id: 'a', source: '/posts', type: 'PostCreated', time: '2026-01-01T00:00:00Z', data: { id: 'p', title: 'x'.repeat(1_000) } }];
    const lifecycle = new Lifecycle();
    const hub = new FlowHub({
      bus: { lastSeq: async () => 0, readAfter: async (after) => events.filter((event) => event.seq > after) },
      snapshots: { latest: async () => ({ lastSeq: null }) as FlowSnapshot },
      lifecycle,
      logger: silentLogger,
      limits: { pollMs: 10, snapshotMs: 10_000, maxBufferedBytes: 2_000 },
    });
    const stuck = new StuckViewer();
    const reading = Object.assign(new StuckViewer(), { write(this: StuckViewer, text: string) { void text; return true; } });
    hub.open(stuck as unknown as ServerResponse, 'stuck');
    hub.open(reading as unknown as ServerResponse, 'reading');
    afterThis(() => hub.close());
    for (let seq = 2; seq <= 5; seq += 1) {
      events = [...events, { ...events[0]!, seq, id: `e${seq}` }];
      await waitFor(`event ${seq} to be read`, () => hub.knownLastSeq === seq);
    }
    expect(stuck.destroyed).toBe(true);
    expect(reading.destroyed).toBe(false);
    expect(hub.viewerCount).toBe(1);
  });
});

describe('retrying a dead letter', () => {
  const letter = { subscriber: 'http://127.0.0.1:4003/events', seq: 12 };

  it('when the bus has no credentials (npm start), then the retry just works', async () => {
    const { app } = setUp();
    const response = await request(app).post('/flow/api/dead-letters/retry').send(letter);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ retrying: 1 });
    expect(bus.retried).toEqual([letter]);
  });

  it('when the page sends the operator token, then the bus gets it as the bearer token', async () => {
    bus.tokens = new Map([['operator-token-0123456789', 'operator'], ['client-token-0123456789', 'client']]);
    const { app } = setUp({ busToken: 'client-token-0123456789' });
    await request(app).post('/flow/api/dead-letters/retry').set('x-operator-token', 'operator-token-0123456789').send(letter).expect(202);
    const retry = bus.asked.find((asked) => asked.url === '/dead-letters/retry')!;
    expect(retry.headers.authorization).toBe('Bearer operator-token-0123456789');
    expect(JSON.parse(retry.body)).toEqual(letter);
  });

  it('when no token is sent, then the client\'s own read-only one is refused with 403, passed through, asking for the operator token', async () => {
    bus.tokens = new Map([['client-token-0123456789', 'client']]);
    const { app } = setUp({ busToken: 'client-token-0123456789' });
    const response = await request(app).post('/flow/api/dead-letters/retry').send(letter);
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: expect.stringContaining('Only the operator may retry dead letters'), needsToken: true });
    expect(response.body.details[0].message).toContain('client may not retry dead letters');
    expect(bus.retried).toEqual([]);
  });

  it('when the token is wrong, then the bus\'s 401 is passed through saying the token was not accepted', async () => {
    bus.tokens = new Map([['operator-token-0123456789', 'operator']]);
    const { app } = setUp();
    const response = await request(app).post('/flow/api/dead-letters/retry').set('x-operator-token', 'not-the-operator-token').send(letter);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: expect.stringContaining('did not accept that operator token'), needsToken: true });
  });

  it('when the token is another service\'s, then the 403 says only the operator may', async () => {
    bus.tokens = new Map([['moderation-token-0123456789', 'moderation']]);
    const { app } = setUp();
    const response = await request(app).post('/flow/api/dead-letters/retry').set('x-operator-token', 'moderation-token-0123456789').send(letter);
    expect(response.status).toBe(403);
    expect(response.body.error).toContain('not the operator\'s');
  });

  it.each([
    ['a token with a line break', { 'x-operator-token': 'abc def' }, letter, 400],
    ['no subscriber', {}, { seq: 1 }, 400],
    ['a seq that is not a number', {}, { subscriber: 's', seq: '1' }, 400],
    ['an extra field', {}, { ...letter, all: true }, 400],
  ])('when the request has %s, then it answers 400 and the bus is not asked', async (_what, headers, body, status) => {
    const { app } = setUp();
    const response = await request(app).post('/flow/api/dead-letters/retry').set(headers).send(body);
    expect(response.status).toBe(status);
    expect(bus.retried).toEqual([]);
  });

  it('when the body is not JSON, then it answers 415', async () => {
    const { app } = setUp();
    await request(app).post('/flow/api/dead-letters/retry').type('form').send('subscriber=s&seq=1').expect(415);
  });

  it('when another site posts to it, then it answers 403 and the bus is not asked', async () => {
    const { app } = setUp();
    const response = await request(app).post('/flow/api/dead-letters/retry').set('origin', 'https://evil.example').send(letter);
    expect(response.status).toBe(403);
    expect(bus.retried).toEqual([]);
  });

  it('when the bus is down, then it answers a JSON 503', async () => {
    const { app } = setUp({ busUrl: `http://127.0.0.1:${await freePort()}` });
    const response = await request(app).post('/flow/api/dead-letters/retry').send(letter);
    expect(response.status).toBe(503);
    expect(response.body.error).toContain('event-bus service is unavailable');
  });
});

describe('breaking it: the local supervisor', () => {
  it('when there is no supervisor (a cluster), then every control path answers 404 with the kubectl commands that do the same', async () => {
    const { app } = setUp();
    for (const call of [request(app).get('/flow/api/control/processes'), request(app).post('/flow/api/control/processes/moderation/stop').send({})]) {
      const response = await call;
      expect(response.status).toBe(404);
      const body = response.body as NoSupervisorAnswer;
      expect(body.error).toMatch(/^no local supervisor: /);
      expect(body.kubectl.services.moderation).toEqual({
        stop: 'kubectl scale deployment moderation-depl --replicas=0',
        start: 'kubectl scale deployment moderation-depl --replicas=1',
        crash: 'kubectl delete pod -l app=moderation',
      });
      expect(body.kubectl.services['event-bus'].stop).toBe('kubectl scale statefulset event-bus --replicas=0');
      expect(body.kubectl.moderationDelay).toContainEqual({ ms: 3000, command: 'kubectl set env deployment/moderation-depl MODERATION_DELAY_MS=3000' });
    }
    expect(supervisor.asked).toEqual([]);
  });

  it('when the cluster runs NATS (infra/scale), then the commands scale to two and name the gateway Deployment', async () => {
    bus.subscribers = [subscriberStatus('moderation', 'moderation', { engine: 'nats' })];
    const { app } = setUp();
    const body = (await request(app).get('/flow/api/control/processes').expect(404)).body as NoSupervisorAnswer;
    expect(body.kubectl.services['event-bus'].start).toBe('kubectl scale deployment event-bus --replicas=2');
    expect(body.kubectl.services.query.start).toBe('kubectl scale deployment query-depl --replicas=2');
  });

  it('when local, then the processes are read from the supervisor', async () => {
    const { app } = setUp({ local: true });
    const response = await request(app).get('/flow/api/control/processes').expect(200);
    expect(response.body.processes.map((process: { name: string }) => process.name)).toContain('moderation');
  });

  it('when a service is stopped and started from the page, then the supervisor is asked to and its 202 comes back', async () => {
    const { app } = setUp({ local: true });
    const stopped = await request(app).post('/flow/api/control/processes/moderation/stop').send({});
    expect(stopped.status).toBe(202);
    expect(supervisor.states.get('moderation')).toBe('stopped');
    await request(app).post('/flow/api/control/processes/moderation/start').send({}).expect(202);
    expect(supervisor.asked.map((asked) => `${asked.method} ${asked.url}`)).toEqual(['POST /processes/moderation/stop', 'POST /processes/moderation/start']);
    supervisor.states.set('moderation', 'ready');
  });

  it.each([
    ['an unknown process', 404, '/flow/api/control/processes/nginx/stop'],
    ['the client itself', 409, '/flow/api/control/processes/client/stop'],
    ['an unknown action', 404, '/flow/api/control/processes/moderation/restart'],
  ])('when asked to act on %s, then it answers %i without asking the supervisor', async (_what, status, path) => {
    const { app } = setUp({ local: true });
    const response = await request(app).post(path).send({});
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: expect.any(String), details: [] });
    expect(supervisor.asked).toEqual([]);
  });

  it('when moderation is slowed, then the delay goes to the supervisor; one out of range is refused', async () => {
    const { app } = setUp({ local: true });
    await request(app).post('/flow/api/control/moderation/delay').send({ ms: 3000 }).expect(202);
    expect(JSON.parse(supervisor.asked.at(-1)!.body)).toEqual({ ms: 3000 });
    await request(app).post('/flow/api/control/moderation/delay').send({ ms: 20_000 }).expect(400);
    await request(app).post('/flow/api/control/moderation/delay').send({ ms: 1.5 }).expect(400);
    expect(supervisor.asked).toHaveLength(1);
    supervisor.moderationDelayMs = 0;
  });

  it('when another site posts a stop, then it is refused', async () => {
    const { app } = setUp({ local: true });
    await request(app).post('/flow/api/control/processes/moderation/stop').set('sec-fetch-site', 'cross-site').send({}).expect(403);
    await request(app).post('/flow/api/control/processes/moderation/stop').set('origin', 'null').send({}).expect(403);
    expect(supervisor.asked).toEqual([]);
  });

  it('when the supervisor is down, then the page gets a JSON 503', async () => {
    const port = await freePort();
    const lifecycle = new Lifecycle();
    lifecycle.markReady();
    const flow = createFlow({
      lifecycle,
      logger: silentLogger,
      urls: { 'event-bus': bus.url, posts: bus.url, comments: bus.url, moderation: bus.url, query: bus.url },
      supervisorUrl: `http://127.0.0.1:${port}`,
      connectTimeoutMs: 300,
      timeoutMs: 1_000,
    });
    closers.push(() => flow.close());
    const proxy = new ApiProxy({ logger: silentLogger, lifecycle, timeoutMs: 1_000, connectTimeoutMs: 300 });
    closers.push(() => proxy.close());
    const app = createApp({ lifecycle, logger: silentLogger, upstreams: {} as never, proxy, staticDir: makeTempDir('blog-flow-'), flow });
    const response = await request(app).post('/flow/api/control/processes/moderation/stop').send({});
    expect(response.status).toBe(503);
    expect(response.body.error).toContain('supervisor service is unavailable');
    const snapshot = (await request(app).get('/flow/api/snapshot').expect(200)).body as FlowSnapshot;
    expect(snapshot.problems).toContainEqual(expect.stringContaining('Cannot reach the local supervisor'));
  });

  it('when the supervisor refuses an action, then its status and message reach the page', async () => {
    const refusing = await new StandIn((_asked, res) => sendJson(res, 409, { error: 'moderation is already stopping', details: [] })).start();
    closers.push(() => refusing.stop());
    const lifecycle = new Lifecycle();
    const flow = createFlow({ lifecycle, logger: silentLogger, urls: { 'event-bus': bus.url, posts: bus.url, comments: bus.url, moderation: bus.url, query: bus.url }, supervisorUrl: refusing.url, connectTimeoutMs: 300, timeoutMs: 1_000 });
    closers.push(() => flow.close());
    const proxy = new ApiProxy({ logger: silentLogger, lifecycle, timeoutMs: 1_000, connectTimeoutMs: 300 });
    closers.push(() => proxy.close());
    const app = createApp({ lifecycle, logger: silentLogger, upstreams: {} as never, proxy, staticDir: makeTempDir('blog-flow-'), flow });
    const response = await request(app).post('/flow/api/control/processes/moderation/stop').send({});
    expect(response.status).toBe(409);
    expect(response.body).toEqual({ error: 'moderation is already stopping', details: [] });
  });
});

describe('configuration', () => {
  it('when nothing is set, then the flow reads the bus and moderation on their usual ports, in cluster mode', () => {
    const config = configSchema.parse({});
    expect(config).toMatchObject({ EVENT_BUS_URL: 'http://localhost:4005', MODERATION_URL: 'http://localhost:4003' });
    expect(config.SUPERVISOR_URL).toBeUndefined();
  });

  it.each(['http://10.0.0.5:7000', 'http://supervisor.example:7000'])('when SUPERVISOR_URL is %s, another host, then the configuration is refused', (url) => {
    expect(configSchema.safeParse({ SUPERVISOR_URL: url }).success).toBe(false);
  });

  it.each(['http://127.0.0.1:7000', 'http://localhost:7000', 'http://[::1]:7000'])('when SUPERVISOR_URL is %s, then it is taken', (url) => {
    expect(configSchema.parse({ SUPERVISOR_URL: url }).SUPERVISOR_URL).toBe(url);
  });
});
