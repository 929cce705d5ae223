import request from 'supertest';
import fc from 'fast-check';
import { MemoryEngine, handledTypes, MAX_COMMENT_LENGTH, MAX_ID_LENGTH, derivedEventId } from '@blog/contracts';
import { EventReceiver, Lifecycle } from '@blog/service-kit';
import { createApp } from '../../moderation/src/app';
import { moderationEventHandlers } from '../../moderation/src/domain/handleEvent';
import { commentCreated } from '../support/factories';
import { silentLogger } from '../support/silentLogger';
import { describeEventsEndpoint } from './eventsEndpoint';
import { describeOperationalEndpoints } from './operationalEndpoints';
import {
  MALFORMED_JSON_BODIES,
  UNUSUAL_TEXT,
  concurrently,
  ILL_FORMED_TEXT,
  containsIllFormedText,
  containsPollutedKey,
  expectClientError,
  expectPrototypeIntact,
  fcOptions,
  hostileString,
  listen,
  rawRequest,
  type Listening,
  isEntityId,
  validEntityId,
} from './harness';

let running: Listening[] = [];

/** Moderation keeps nothing: what it publishes to the bus is all a delivery can change. */
async function setUp() {
  const bus = new MemoryEngine('/moderation');
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const receiver = new EventReceiver({ engine: bus, handlers: moderationEventHandlers, lifecycle, logger: silentLogger });
  const listening = await listen(createApp({ engine: bus, receiver, lifecycle, logger: silentLogger }));
  running.push(listening);
  const { server } = listening;
  const snapshot = () => JSON.stringify(bus.events);
  const deliver = (body: unknown) =>
    request(server).post('/events').set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
  return { server, bus, snapshot, deliver };
}

afterEach(async () => {
  await Promise.all(running.map((listening) => listening.close()));
  running = [];
  expectPrototypeIntact();
});

const bareCommentCreated = (overrides: Partial<{ id: string; content: string }> = {}) => {
  const { type, data } = commentCreated('post-1', overrides);
  return { type, data };
};

describeEventsEndpoint(async () => {
  const { server, snapshot } = await setUp();
  return { server, snapshot, handledTypes: handledTypes(moderationEventHandlers), validEvent: () => commentCreated('post-1') };
});

describe('moderation of hostile comments', () => {
  it.each([
    ['a status other than pending', { status: 'approved' }],
    ['content over the limit', { content: 'c'.repeat(MAX_COMMENT_LENGTH + 1) }],
    ['content of the wrong type', { content: 42 }],
    ['no postId', { postId: undefined }],
    ['an id over the limit', { id: 'i'.repeat(MAX_ID_LENGTH + 1) }],
  ])('when CommentCreated has %s, then it answers 400 and publishes no verdict', async (_name, override) => {
    const { snapshot, deliver } = await setUp();
    const before = snapshot();
    const event = bareCommentCreated();
    expectClientError(await deliver({ type: event.type, data: { ...event.data, ...override } }), { status: 400 });
    expect(snapshot()).toBe(before);
  });

  it.each(ILL_FORMED_TEXT)(
    'when the comment id or content has $name, then it answers 400 (it once answered 500: the verdict id could not be derived)',
    async ({ text }) => {
      const { snapshot, deliver } = await setUp();
      const before = snapshot();
      expectClientError(await deliver(bareCommentCreated({ id: text })), { status: 400 });
      expectClientError(await deliver(bareCommentCreated({ content: text })), { status: 400 });
      expect(snapshot()).toBe(before);
    },
  );

  it.each(UNUSUAL_TEXT)('when the content has $name, then a verdict is published with the content exactly as sent', async ({ text }) => {
    const { bus, deliver } = await setUp();
    const event = bareCommentCreated({ content: text });

    await deliver(event).expect(200);

    expect(bus.events).toMatchObject([{ type: 'CommentModerated', data: { ...event.data, status: 'approved' } }]);
  });

  it.each(['ORANGE', 'an 🍊 orange 🍊', 'oRaNgE\u0000', '\u202eorange', 'blood-orange juice'])(
    'when the content %j holds the word "orange" among odd characters, then it is rejected',
    async (content) => {
      const { bus, deliver } = await setUp();
      await deliver(bareCommentCreated({ content })).expect(200);
      expect(bus.events).toMatchObject([{ type: 'CommentModerated', data: { status: 'rejected' } }]);
    },
  );

  it('when CommentCreated carries extra and prototype-polluting fields, then the verdict carries only the contract fields', async () => {
    const { bus, deliver } = await setUp();
    const event = bareCommentCreated();
    const data = JSON.stringify(event.data).slice(0, -1);

    await deliver(`{"type": "CommentCreated", "data": ${data}, "status2": "approved", "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}}`).expect(200);

    expectPrototypeIntact();
    expect(bus.events).toHaveLength(1);
    expect(Object.keys(bus.events[0]!.data as object).sort()).toEqual(['content', 'id', 'postId', 'status']);
    expect(containsPollutedKey(bus.events[0]!.data)).toBe(false);
  });

  it('when hundreds of bad deliveries have been refused, then /healthz answers 200 and a good delivery is moderated', async () => {
    const { server, bus, snapshot, deliver } = await setUp();
    const before = snapshot();

    for (let round = 0; round < 6; round += 1) {
      const answers = await Promise.all([
        ...MALFORMED_JSON_BODIES.map(({ body }) => deliver(body)),
        deliver([]),
        deliver({ type: 'CommentCreated', data: { id: 'x' } }),
        rawRequest(server, { method: 'POST', path: '/events', headers: { 'content-type': 'text/plain' }, body: 'x' }),
      ]);
      for (const answer of answers) expectClientError(answer);
    }

    expect(snapshot()).toBe(before);
    await request(server).get('/healthz').expect(200);
    await request(server).get('/readyz').expect(200);
    await deliver(bareCommentCreated()).expect(200);
    expect(bus.ofType('CommentModerated')).toHaveLength(1);
  });

  it('when 200 deliveries, good, bad and repeated, arrive at once, then each good comment gets exactly one verdict', async () => {
    const { bus, deliver } = await setUp();
    const comments = Array.from({ length: 50 }, () => bareCommentCreated());

    const answers = await concurrently(200, async (index) => {
      // Each good comment is delivered three times, as a bus retrying after lost acknowledgements would.
      if (index < 150) return { good: true, response: await deliver(comments[index % 50]) };
      return { good: false, response: await deliver({ type: 'CommentCreated', data: { ...comments[index % 50]!.data, status: 'bogus' } }) };
    });

    for (const { good, response } of answers) {
      if (good) expect(response.status).toBe(200);
      else expectClientError(response, { status: 400 });
    }
    const verdicts = bus.ofType('CommentModerated');
    expect(verdicts.map((verdict) => verdict.id).sort()).toEqual(
      comments.map((comment) => derivedEventId('CommentModerated', comment.data.id)).sort(),
    );
  });

  it('when CommentCreated has generated field values, then a verdict is published exactly for the valid ones, with the right status', async () => {
    const { bus, snapshot, deliver } = await setUp();
    const field = fc.oneof({ arbitrary: validEntityId(MAX_ID_LENGTH), weight: 6 }, hostileString(40), fc.string({ minLength: 95, maxLength: 105 }), fc.integer(), fc.constant(null));
    const content = fc.oneof(hostileString(60), fc.string({ minLength: 1995, maxLength: 2005 }), fc.integer());
    const status = fc.oneof(fc.constant('pending'), fc.constantFrom('approved', 'rejected', 'PENDING', ''), fc.integer());
    const seen = { published: 0, refused: 0 };
    const firstVerdicts = new Map<string, unknown>();

    await fc.assert(
      fc.asyncProperty(field, field, content, status, async (id, postId, text, commentStatus) => {
        const before = snapshot();
        const data = { id, postId, content: text, status: commentStatus };
        const isId = (value: unknown) => isEntityId(value, MAX_ID_LENGTH);
        const valid =
          isId(id) &&
          isId(postId) &&
          typeof text === 'string' &&
          text.length <= MAX_COMMENT_LENGTH &&
          commentStatus === 'pending' &&
          !containsIllFormedText(data);

        const response = await deliver({ type: 'CommentCreated', data });

        if (!valid) {
          expectClientError(response, { status: 400 });
          expect(snapshot()).toBe(before);
          seen.refused += 1;
          return;
        }
        expect(response.status).toBe(200);
        // A comment id seen before is the same comment redelivered: its first verdict stands, stored once.
        const expected = firstVerdicts.get(id as string) ?? { ...data, status: /orange/i.test(text as string) ? 'rejected' : 'approved' };
        firstVerdicts.set(id as string, expected);
        const verdicts = bus.events.filter((event) => event.id === derivedEventId('CommentModerated', id as string));
        expect(verdicts.map((verdict) => verdict.data)).toEqual([expected]);
        seen.published += 1;
      }),
      fcOptions(100),
    );
    expect(seen.published).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});

describeOperationalEndpoints(setUp);
