import fc from 'fast-check';
import request from 'supertest';
import { EVENT_OWNERS, OPERATOR, READ_ONLY_CALLERS, isKnownEventType, type EventType } from '@blog/contracts';
import { NatsConnector, natsNames } from '@blog/service-kit';
import type { Bus } from '../../event-bus/src/bus';
import { configSchema } from '../../event-bus/src/config';
import { createGateway, type Gateway } from '../../event-bus/src/gateway/natsGateway';
import { CALLER_NAMES, credentialEnv, natsAuth, natsCluster, newCredentials, type CallerName, type NatsNode } from '../support/localSystem';
import { natsPasswordEnv } from '../../launcher/src/credentials';
import { silentLogger } from '../support/silentLogger';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { closeListeningBus, expectPrototypeIntact, fcOptions, listen, listeningBus, type Listening } from './harness';

/**
 * Publishers that claim what is not theirs: every credential (and none, and a wrong one) sends every
 * event type, with any source, id and batch around it. Whatever the engine, an event is stored only
 * when its caller owns its type, and then with the caller's own source; a refusal stores nothing.
 */

const credentials = newCredentials();
const TYPES = Object.keys(EVENT_OWNERS) as EventType[];
type Caller = CallerName | 'nobody' | 'stranger';

function authorization(caller: Caller): Record<string, string> {
  if (caller === 'nobody') return {};
  const token = caller === 'stranger' ? 'a-token-nobody-was-given-0123' : credentials.tokens[caller];
  return { authorization: `Bearer ${token}` };
}

const dataOf = (type: EventType, n: number) =>
  type === 'PostCreated' ? { id: `post-${n}`, title: `Title ${n}` } : { id: `comment-${n}`, postId: `post-${n}`, content: `Text ${n}`, status: type === 'CommentCreated' ? 'pending' : 'approved' };

const eventArbitrary = fc.record({
  type: fc.oneof(fc.constantFrom(...TYPES), fc.constantFrom('SomethingNew', 'Filler')),
  // Claims to be someone: another service, the operator, or a stranger (a malformed source is a 400 of the bad-input suites).
  source: fc.option(fc.constantFrom(...CALLER_NAMES.map((name) => `/${name}`), '/anonymous', 'https://elsewhere.example/x'), { nil: undefined }),
  n: fc.nat(1_000_000),
});

const publishArbitrary = fc.record({
  caller: fc.constantFrom<Caller>(...CALLER_NAMES, 'nobody', 'stranger'),
  events: fc.array(eventArbitrary, { minLength: 1, maxLength: 4 }),
  asBatch: fc.boolean(),
});

let sent = 0;

/** Runs the property against one bus app: the embedded bus, or the gateway in front of NATS. */
function forgedPublishesAreRefused(server: () => Listening['server'], readLog: () => Promise<{ id: string; source: string; type: string }[]>) {
  return fc.asyncProperty(publishArbitrary, async ({ caller, events, asBatch }) => {
    const batch = asBatch || events.length > 1;
    const bodies = events.map(({ type, source, n }) => ({ type, id: `forged-${(sent += 1)}-${n}`, ...(source === undefined ? {} : { source }), data: isKnownEventType(type) ? dataOf(type, n) : { n } }));
    const before = (await readLog()).length;

    const answer = await request(server()).post('/events').set(authorization(caller)).send(batch ? bodies : bodies[0]!);

    const log = await readLog();
    const known = caller !== 'nobody' && caller !== 'stranger';
    // Each caller its own types; a type nobody owns, the operator alone.
    const mayPublish = (type: string) => (isKnownEventType(type) ? EVENT_OWNERS[type] === caller : caller === OPERATOR);
    const owned = !READ_ONLY_CALLERS.includes(caller) && bodies.every(({ type }) => mayPublish(type));
    if (!known) {
      expect(answer.status).toBe(401);
    } else if (!owned) {
      expect(answer.status).toBe(403);
      const firstForged = READ_ONLY_CALLERS.includes(caller) ? 0 : bodies.findIndex(({ type }) => !mayPublish(type));
      expect(answer.body.details[0].path).toBe(batch ? `${firstForged}.type` : 'type');
    } else {
      expect(answer.status).toBe(201);
      const stored = log.filter((event) => bodies.some((body) => body.id === event.id));
      expect(stored.map((event) => [event.type, event.source])).toEqual(bodies.map(({ type }) => [type, `/${caller}`]));
    }
    if (answer.status !== 201) expect(log.length).toBe(before);
  });
}

afterEach(() => expectPrototypeIntact());
afterAll(() => removeTempDirs());

describe('forged publishers on the embedded bus', () => {
  let bus: Bus;
  let listening: Listening;

  beforeAll(async () => {
    ({ bus, listening } = await listeningBus('bus-forged-', credentialEnv(credentials, 'event-bus', false)));
  });

  afterAll(() => closeListeningBus({ bus, listening }));

  const readLog = async () => (await request(listening.server).get('/events?after=0&limit=10000').set(authorization('query')).expect(200)).body;

  it('when any caller publishes any type with any claimed source, then only its own types are stored, as its own, and nothing else', async () => {
    await fc.assert(forgedPublishesAreRefused(() => listening.server, readLog), fcOptions(150));
  });
});

describe('forged publishers on NATS JetStream, through the gateway and straight to the server', () => {
  let nats: NatsNode[];
  let gateway: Gateway;
  let listening: Listening;

  beforeAll(async () => {
    const dir = makeTempDir('nats-forged-');
    nats = await natsCluster(1, dir, { auth: natsAuth(dir, natsPasswordEnv(credentials)) });
    await nats[0]!.start();
    const env = credentialEnv(credentials, 'event-bus', true);
    gateway = createGateway(configSchema.parse({ NATS_URL: nats[0]!.url, ...env }), silentLogger);
    listening = await listen(gateway.app);
  });

  afterAll(async () => {
    await listening?.close();
    await gateway?.close();
    await Promise.all((nats ?? []).map((node) => node.stop('SIGTERM')));
  });

  const readLog = async () => (await request(listening.server).get('/events?after=0&limit=10000').set(authorization('query')).expect(200)).body;

  it('when any caller publishes any type through the gateway, then only its own types are stored, as its own, and nothing else', async () => {
    await fc.assert(forgedPublishesAreRefused(() => listening.server, readLog), fcOptions(60));
  });

  it.each(['posts', 'comments', 'moderation', 'query'] as const)('when %s publishes to every event subject straight to NATS, then only its own subjects take the event', async (user) => {
    const connector = new NatsConnector({ servers: [nats[0]!.url], name: `forger-${user}`, replicas: 1, dedupeWindowMs: 60_000, timeoutMs: 2000, user, password: credentials.tokens[user] });
    try {
      const link = await connector.connected();
      const outcomes: Record<string, string> = {};
      for (const type of TYPES) {
        const before = (await link.jsm.streams.info(natsNames.EVENTS_STREAM)).state.last_seq;
        const outcome = await link.js.publish(natsNames.subjectOf(type), JSON.stringify({ type, data: dataOf(type, 1) }), { msgID: `direct-${user}-${type}-${Date.now()}` }).then(
          () => 'stored',
          (error: Error) => (/Permissions Violation/.test(error.message) ? 'refused' : `failed: ${error.message}`),
        );
        const after = (await link.jsm.streams.info(natsNames.EVENTS_STREAM)).state.last_seq;
        outcomes[type] = outcome === 'stored' && after === before + 1 ? 'stored' : outcome === 'refused' && after === before ? 'refused' : `${outcome}, stream ${before} -> ${after}`;
      }

      expect(outcomes).toEqual(Object.fromEntries(TYPES.map((type) => [type, EVENT_OWNERS[type] === user ? 'stored' : 'refused'])));
    } finally {
      await connector.close();
    }
  });
});
