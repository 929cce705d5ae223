import request from 'supertest';
import fc from 'fast-check';
import { MemoryEngine, handledTypes, MAX_ID_LENGTH, MAX_TITLE_LENGTH } from '@blog/contracts';
import { EventReceiver, Lifecycle } from '@blog/service-kit';
import { createApp } from '../../query/src/app';
import { queryEventHandlers, QueryStore } from '../../query/src/view';
import { commentCreated, commentVerdict, postCreated } from '../support/factories';
import { silentLogger } from '../support/silentLogger';
import { describeEventsEndpoint } from './eventsEndpoint';
import { describeOperationalEndpoints } from './operationalEndpoints';
import {
  MALFORMED_JSON_BODIES,
  UNUSUAL_TEXT,
  concurrently,
  containsIllFormedText,
  containsPollutedKey,
  expectClientError,
  expectPrototypeIntact,
  fcOptions,
  hostileString,
  listen,
  rawRequest,
  stateOf,
  type Listening,
  isEntityId,
  validEntityId,
} from './harness';

let running: Listening[] = [];

async function setUp() {
  const store = new QueryStore();
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const engine = new MemoryEngine('/query');
  const receiver = new EventReceiver({ engine, handlers: queryEventHandlers(store), lifecycle, logger: silentLogger });
  const listening = await listen(createApp({ engine, receiver, store, lifecycle, logger: silentLogger }));
  running.push(listening);
  const { server } = listening;
  /** The whole read model: a refused delivery must leave it exactly as it was. */
  const snapshot = () => stateOf(store);
  const deliver = (body: unknown) =>
    request(server).post('/events').set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
  return { server, store, snapshot, deliver };
}

afterEach(async () => {
  await Promise.all(running.map((listening) => listening.close()));
  running = [];
  expectPrototypeIntact();
});

const bare = (event: { type: string; data: unknown }) => ({ type: event.type, data: event.data });

describeEventsEndpoint(async () => {
  const { server, snapshot } = await setUp();
  return { server, snapshot, handledTypes: handledTypes(queryEventHandlers(new QueryStore())), validEvent: () => postCreated() };
});

describe('GET /posts on query with odd requests', () => {
  it.each([
    ['a prototype-polluting query', '?__proto__[polluted]=1&constructor[prototype][polluted]=1'],
    ['broken percent-encoding', '?a=%E0%A4%A&%=%'],
    ['repeated keys', '?a=1&a=2&a=3'],
    ['a very long query', `?q=${'q'.repeat(6000)}`],
  ])('when the query is %s, then it is ignored and the view is answered', async (_name, query) => {
    const { server, deliver } = await setUp();
    const post = postCreated();
    await deliver(bare(post)).expect(200);

    const answer = await rawRequest(server, { method: 'GET', path: `/posts${query}` });

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ [post.data.id]: { ...post.data, comments: [] } });
    expectPrototypeIntact();
  });

  it.each([
    ['POST', '/posts'],
    ['POST', '/posts/create'],
    ['DELETE', '/posts'],
    ['GET', '/posts/%E0%A4%A'],
    ['GET', '/posts/__proto__'],
    ['POST', '/updates'],
  ])('when %s %s is sent to query, then it answers 404 JSON and the view is unchanged', async (method, path) => {
    const { server, snapshot } = await setUp();
    const before = snapshot();
    const answer = await rawRequest(server, { method, path, headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' });
    expectClientError(answer, { status: 404, echoed: [path] });
    expect(snapshot()).toBe(before);
  });
});

describe('query read model with hostile events', () => {
  it.each(['__proto__', '💥', '\u0000', '_x', 'a b'])('when a post with id %j is delivered, then it is refused (400) and the view is unchanged', async (id) => {
    const { server, deliver, snapshot } = await setUp();
    const before = snapshot();

    const answer = await deliver({ type: 'PostCreated', data: { id, title: 'odd id' } });

    expectClientError(answer, { status: 400 });
    expect(snapshot()).toBe(before);
    expect((await rawRequest(server, { method: 'GET', path: '/posts' })).text).toBe('{}');
    expectPrototypeIntact();
  });

  it.each(['constructor', 'hasOwnProperty', 'toString', 'valueOf', 'x'.repeat(MAX_ID_LENGTH)])(
    'when a post with id %j is delivered, then the view lists it as an ordinary key and no prototype is touched',
    async (id) => {
      const { server, deliver } = await setUp();
      const other = postCreated();
      await deliver([bare(other), { type: 'PostCreated', data: { id, title: 'odd id' } }]).expect(200);

      const answer = await rawRequest(server, { method: 'GET', path: '/posts' });

      expect(answer.status).toBe(200);
      const view = JSON.parse(answer.text) as Record<string, unknown>;
      expect(Object.keys(view).sort()).toEqual([other.data.id, id].sort());
      expect(Object.getOwnPropertyDescriptor(view, id)?.value).toEqual({ id, title: 'odd id', comments: [] });
      expectPrototypeIntact();
    },
  );

  it.each(UNUSUAL_TEXT)('when a title and a comment have $name, then the view shows them exactly', async ({ text }) => {
    const { server, deliver } = await setUp();
    const post = postCreated({ title: text });
    const comment = commentCreated(post.data.id, { content: text });
    await deliver([bare(post), bare(comment)]).expect(200);

    const view = (await request(server).get('/posts')).body;

    expect(view[post.data.id]).toEqual({ id: post.data.id, title: text, comments: [{ id: comment.data.id, content: text, status: 'pending' }] });
  });

  it('when events carry prototype-polluting keys, then the view holds only the contract fields', async () => {
    const { server, deliver } = await setUp();
    const post = postCreated();
    const comment = commentCreated(post.data.id);
    const pollute = '"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}';
    const body = `[{"type": "PostCreated", "data": {${pollute}, "id": ${JSON.stringify(post.data.id)}, "title": "t", "comments": [{"id": "fake"}]}},
      {"type": "CommentCreated", "data": {"id": ${JSON.stringify(comment.data.id)}, "postId": ${JSON.stringify(post.data.id)}, "content": "c", "status": "pending", ${pollute}}}]`;

    await deliver(body).expect(200);

    expectPrototypeIntact();
    const view = (await request(server).get('/posts')).body;
    expect(view).toEqual({ [post.data.id]: { id: post.data.id, title: 't', comments: [{ id: comment.data.id, content: 'c', status: 'pending' }] } });
    expect(containsPollutedKey(view)).toBe(false);
  });

  it('when a comment names no known post, or an update names no known comment, then they are acknowledged and change nothing', async () => {
    const { snapshot, deliver } = await setUp();
    const before = snapshot();
    const orphan = commentCreated('no-such-post');

    const response = await deliver([bare(orphan), bare(commentVerdict('CommentUpdated', { id: 'no-such-comment', postId: 'p', content: 'x' }, 'approved'))]);

    expect(response.status).toBe(200);
    expect(snapshot()).toBe(before);
  });

  it('when an update tries to move a final status back to pending or to another verdict, then the view keeps the first verdict', async () => {
    const { server, deliver } = await setUp();
    const post = postCreated();
    const comment = commentCreated(post.data.id);
    await deliver([bare(post), bare(comment), bare(commentVerdict('CommentUpdated', comment.data, 'rejected'))]).expect(200);

    await deliver([bare(commentVerdict('CommentUpdated', comment.data, 'pending')), bare(commentVerdict('CommentUpdated', comment.data, 'approved'))]).expect(200);

    expect((await request(server).get('/posts')).body[post.data.id].comments).toEqual([
      { id: comment.data.id, content: comment.data.content, status: 'rejected' },
    ]);
  });

  it('when hundreds of bad deliveries have been refused, then /healthz answers 200 and a good delivery is applied', async () => {
    const { server, snapshot, deliver } = await setUp();
    const before = snapshot();

    for (let round = 0; round < 6; round += 1) {
      const answers = await Promise.all([
        ...MALFORMED_JSON_BODIES.map(({ body }) => deliver(body)),
        deliver([bare(postCreated()), { type: 'PostCreated', data: { id: '' } }]),
        deliver({ type: 'CommentUpdated', data: { id: 'x', postId: 'p', content: 'c', status: 'maybe' } }),
      ]);
      for (const answer of answers) expectClientError(answer, { status: 400 });
    }

    expect(snapshot()).toBe(before);
    await request(server).get('/healthz').expect(200);
    await request(server).get('/readyz').expect(200);
    const post = postCreated();
    await deliver(bare(post)).expect(200);
    expect((await request(server).get('/posts')).body).toEqual({ [post.data.id]: { ...post.data, comments: [] } });
  });

  it('when 200 deliveries, good, bad and repeated, arrive at once, then each good post is in the view exactly once', async () => {
    const { server, deliver } = await setUp();
    const posts = Array.from({ length: 80 }, () => postCreated());

    const answers = await concurrently(200, async (index) => {
      if (index < 160) return { good: true, response: await deliver(bare(posts[index % 80]!)) };
      return { good: false, response: await deliver({ type: 'PostCreated', data: { id: posts[index % 80]!.data.id, title: 7 } }) };
    });

    for (const { good, response } of answers) {
      if (good) expect(response.status).toBe(200);
      else expectClientError(response, { status: 400 });
    }
    const view = (await request(server).get('/posts')).body as Record<string, { title: unknown }>;
    expect(Object.keys(view).sort()).toEqual(posts.map((post) => post.data.id).sort());
    for (const post of posts) expect(view[post.data.id]).toEqual({ ...post.data, comments: [] });
  });

  it('when PostCreated has generated ids and titles, then the view gains exactly the valid new posts, as sent', async () => {
    const { store, snapshot, deliver } = await setUp();
    const id = fc.oneof(hostileString(30), validEntityId(MAX_ID_LENGTH), fc.string({ minLength: 98, maxLength: 102 }), fc.integer(), fc.constant(null));
    const title = fc.oneof(hostileString(40), fc.string({ minLength: 198, maxLength: 202 }), fc.constant(null), fc.boolean());
    const seen = { added: 0, refused: 0 };

    await fc.assert(
      fc.asyncProperty(id, title, async (postId, postTitle) => {
        const before = snapshot();
        const known = typeof postId === 'string' && Object.hasOwn(store.toRecord(), postId);
        const valid =
          isEntityId(postId, MAX_ID_LENGTH) &&
          typeof postTitle === 'string' &&
          postTitle.length <= MAX_TITLE_LENGTH &&
          !containsIllFormedText([postId, postTitle]);

        const response = await deliver({ type: 'PostCreated', data: { id: postId, title: postTitle } });

        if (!valid) {
          expectClientError(response, { status: 400 });
          expect(snapshot()).toBe(before);
          seen.refused += 1;
          return;
        }
        expect(response.status).toBe(200);
        if (known) {
          expect(snapshot()).toBe(before);
          return;
        }
        expect(Object.getOwnPropertyDescriptor(store.toRecord(), postId as string)?.value).toEqual({ id: postId, title: postTitle, comments: [] });
        seen.added += 1;
        expectPrototypeIntact();
      }),
      fcOptions(100),
    );
    expect(seen.added).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});

describeOperationalEndpoints(setUp);
