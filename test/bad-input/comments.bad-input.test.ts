import zlib from 'node:zlib';
import request from 'supertest';
import fc from 'fast-check';
import { ENTITY_ID_PATTERN, MemoryEngine, handledTypes, MAX_COMMENT_LENGTH, MAX_ID_LENGTH } from '@blog/contracts';
import { Lifecycle, EventReceiver } from '@blog/service-kit';
import { createApp } from '../../comments/src/app';
import { commentsEventHandlers, CommentStore } from '../../comments/src/store/commentStore';
import { aComment, postCreated } from '../support/factories';
import { badJsonBodies, send } from '../support/badInput';
import { silentLogger } from '../support/silentLogger';
import { describeEventsEndpoint } from './eventsEndpoint';
import { describeOperationalEndpoints } from './operationalEndpoints';
import {
  HUGE_BODY_BYTES,
  MALFORMED_JSON_BODIES,
  ODD_PATH_IDS,
  UNUSUAL_TEXT,
  WRONG_CONTENT_TYPES,
  concurrently,
  ILL_FORMED_TEXT,
  acceptedText,
  containsPollutedKey,
  decodedOrRaw,
  expectClientError,
  expectPrototypeIntact,
  fcOptions,
  hostileJsonValue,
  hostileObjectText,
  hostileString,
  hugeJsonBody,
  isWellFormed,
  listen,
  pollutionBodies,
  rawRequest,
  stateOf,
  toJsonText,
  type Listening,
} from './harness';

let running: Listening[] = [];

async function setUp() {
  const bus = new MemoryEngine();
  const store = new CommentStore();
  const lifecycle = new Lifecycle();
  const receiver = new EventReceiver({ engine: bus, handlers: commentsEventHandlers(store), lifecycle, logger: silentLogger });
  const app = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger });
  const post = postCreated();
  await bus.publish(post);
  await receiver.catchUp();
  lifecycle.markReady();
  const listening = await listen(app);
  running.push(listening);
  const { server } = listening;
  const postId = post.data.id;
  const commentsPath = `/posts/${postId}/comments`;
  /** What a rejected request must leave as it was: every post and comment kept, and the events published. */
  const snapshot = () => ({ store: stateOf(store), events: JSON.stringify(bus.events) });
  const postJson = (path: string, body: string) => request(server).post(path).set('Content-Type', 'application/json').send(body);
  return { app, server, bus, store, postId, commentsPath, snapshot, postJson };
}

afterEach(async () => {
  await Promise.all(running.map((listening) => listening.close()));
  running = [];
  expectPrototypeIntact();
});

describe('POST /posts/:id/comments with a bad body', () => {
  describe.each(badJsonBodies('content', MAX_COMMENT_LENGTH))('when the body is $name', (testCase) => {
    it(`then it answers ${testCase.status} with a clear error and the comments and the log are unchanged`, async () => {
      const { app, commentsPath, snapshot } = await setUp();
      const before = snapshot();

      expectClientError(await send(app, commentsPath, testCase), { status: testCase.status });
      expect(snapshot()).toEqual(before);
    });
  });

  it.each(MALFORMED_JSON_BODIES)('when the body is malformed JSON ($name), then it answers 400 and stores nothing', async ({ body }) => {
    const { commentsPath, snapshot, postJson } = await setUp();
    const before = snapshot();
    expectClientError(await postJson(commentsPath, body), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(WRONG_CONTENT_TYPES)('when the content type is %s, then it answers 415 and stores nothing', async (contentType) => {
    const { server, commentsPath, snapshot } = await setUp();
    const before = snapshot();
    const response = await request(server).post(commentsPath).set('Content-Type', contentType).send(JSON.stringify({ content: aComment() }));
    expectClientError(response, { status: 415 });
    expect(snapshot()).toEqual(before);
  });

  it('when the body is megabytes long, or inflates to megabytes, then it answers 413 and stores nothing', async () => {
    const { server, commentsPath, snapshot } = await setUp();
    const before = snapshot();
    const huge = hugeJsonBody('content', HUGE_BODY_BYTES);

    const plain = await rawRequest(server, { method: 'POST', path: commentsPath, headers: { 'content-type': 'application/json' }, body: huge });
    const bomb = await rawRequest(server, {
      method: 'POST',
      path: commentsPath,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: zlib.gzipSync(huge),
    });

    expectClientError(plain, { status: 413 });
    expectClientError(bomb, { status: 413 });
    expect(snapshot()).toEqual(before);
  });

  it('when the body claims gzip but is not, then it answers 400 and stores nothing', async () => {
    const { server, commentsPath, snapshot } = await setUp();
    const before = snapshot();
    const answer = await rawRequest(server, {
      method: 'POST',
      path: commentsPath,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: JSON.stringify({ content: aComment() }),
    });
    expectClientError(answer, { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each([
    ['a number', 42],
    ['a boolean', false],
    ['an array', ['a comment']],
    ['an object', { text: 'a comment' }],
    ['null', null],
  ])('when the content is %s, then it answers 400 naming the content and stores nothing', async (_name, content) => {
    const { commentsPath, snapshot, postJson } = await setUp();
    const before = snapshot();
    const response = await postJson(commentsPath, JSON.stringify({ content }));
    expectClientError(response, { status: 400 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'content' })]);
    expect(snapshot()).toEqual(before);
  });

  it('when the content is missing but look-alike fields are there, then it answers 400 naming the content', async () => {
    const { commentsPath, snapshot, postJson } = await setUp();
    const before = snapshot();
    const response = await postJson(commentsPath, JSON.stringify({ Content: 'x', comment: 'y', text: 'z' }));
    expectClientError(response, { status: 400 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'content' })]);
    expect(snapshot()).toEqual(before);
  });

  it('when the body has extra fields, then only the content counts: the id is ours, the status pending and the post the path one', async () => {
    const { bus, store, postId, commentsPath, postJson } = await setUp();
    const content = aComment();

    const response = await postJson(
      commentsPath,
      JSON.stringify({ content, id: 'chosen', status: 'approved', postId: 'another-post', type: 'CommentModerated' }),
    );

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), content, status: 'pending' });
    expect(response.body.id).not.toBe('chosen');
    expect(store.commentsOf(postId)).toEqual([response.body]);
    expect(store.hasPost('another-post')).toBe(false);
    expect(bus.ofType('CommentCreated').map((event) => event.data)).toEqual([{ ...response.body, postId }]);
  });

  it(`when the content is exactly ${MAX_COMMENT_LENGTH} characters after trimming, then it is accepted; one more is refused`, async () => {
    const { commentsPath, snapshot, postJson } = await setUp();
    const longest = 'c'.repeat(MAX_COMMENT_LENGTH);

    const accepted = await postJson(commentsPath, JSON.stringify({ content: `\n${longest}\t` }));
    expect(accepted.status).toBe(201);
    expect(accepted.body.content).toBe(longest);

    const before = snapshot();
    expectClientError(await postJson(commentsPath, JSON.stringify({ content: `${longest}c` })), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(['\u00a0\u3000', '\t\n\r', '\ufeff'])('when the content is only whitespace (%j), then it answers 400', async (content) => {
    const { commentsPath, snapshot, postJson } = await setUp();
    const before = snapshot();
    expectClientError(await postJson(commentsPath, JSON.stringify({ content })), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(UNUSUAL_TEXT)('when the content has $name, then it is stored and listed exactly as sent', async ({ text }) => {
    const { server, commentsPath, postJson } = await setUp();
    const response = await postJson(commentsPath, JSON.stringify({ content: text }));
    expect(response.status).toBe(201);
    expect(response.body.content).toBe(text);
    expect((await request(server).get(commentsPath)).body).toEqual([response.body]);
  });

  it.each(ILL_FORMED_TEXT)('when the content or a key has $name, then it answers 400 and stores nothing', async ({ text }) => {
    const { commentsPath, snapshot, postJson } = await setUp();
    const before = snapshot();
    expectClientError(await postJson(commentsPath, JSON.stringify({ content: text })), { status: 400 });
    expectClientError(await postJson(commentsPath, JSON.stringify({ content: 'fine', [text]: text })), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(pollutionBodies('content', 'A safe comment'))(
    'when the body carries $name, then the comment is created without it and no prototype is touched',
    async ({ body }) => {
      const { bus, store, postId, commentsPath, postJson } = await setUp();

      const response = await postJson(commentsPath, body);

      expect(response.status).toBe(201);
      expect(response.body).toEqual({ id: expect.any(String), content: 'A safe comment', status: 'pending' });
      expectPrototypeIntact();
      const [stored] = store.commentsOf(postId)!;
      expect(Object.keys(stored!).sort()).toEqual(['content', 'id', 'status']);
      expect(containsPollutedKey(stored)).toBe(false);
      expect(containsPollutedKey(bus.ofType('CommentCreated')[0]!.data)).toBe(false);
    },
  );
});

describe('/posts/:id/comments with odd path ids', () => {
  describe.each(ODD_PATH_IDS)('when the post id is $name', ({ raw, status }) => {
    it.each(['GET', 'POST'])(`then %s answers ${status} with a clear error, creates no post and stores nothing`, async (method) => {
      const { server, store, snapshot } = await setUp();
      const before = snapshot();

      const answer = await rawRequest(server, {
        method,
        path: `/posts/${raw}/comments`,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify({ content: aComment() }) : undefined,
      });

      expectClientError(answer, { status, echoed: [raw, decodedOrRaw(raw)] });
      expect(snapshot()).toEqual(before);
      expect(store.hasPost(decodedOrRaw(raw))).toBe(false);
      expectPrototypeIntact();
    });
  });

  it.each(['constructor', 'hasOwnProperty', 'toString', 'valueOf', 'x'.repeat(MAX_ID_LENGTH)])(
    'when a post whose id is %j exists, then its comments are created and listed under that id only',
    async (id) => {
      const { server, store, postId, commentsPath, postJson } = await setUp();
      await postJson('/events', JSON.stringify({ type: 'PostCreated', data: { id, title: 'odd' } })).expect(200);
      const path = `/posts/${encodeURIComponent(id)}/comments`;

      const created = await postJson(path, JSON.stringify({ content: 'on an odd post' }));

      expect(created.status).toBe(201);
      expect((await request(server).get(path)).body).toEqual([created.body]);
      expect(store.commentsOf(id)).toEqual([created.body]);
      expect((await request(server).get(commentsPath)).body).toEqual([]);
      expect(store.commentsOf(postId)).toEqual([]);
      expectPrototypeIntact();
    },
  );

  it.each(['__proto__', 'a/b?c#d', 'émoji 💥', '%41', ' spaced ', '\u0000nul', '-leading-dash', 'x'.repeat(MAX_ID_LENGTH + 1)])(
    'when a PostCreated with the id %j is delivered, then it is refused at the door (400 naming data.id) and no such post exists',
    async (id) => {
      const { server, store, snapshot, postJson } = await setUp();
      const before = snapshot();

      const delivery = await postJson('/events', JSON.stringify({ type: 'PostCreated', data: { id, title: 'odd' } }));
      const comment = await rawRequest(server, {
        method: 'POST',
        path: `/posts/${encodeURIComponent(id)}/comments`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'on an odd post' }),
      });

      expectClientError(delivery, { status: 400 });
      expect(delivery.body.details.map((detail: { path: string }) => detail.path)).toContain('data.id');
      expectClientError(comment, { status: 404 });
      expect(store.hasPost(id)).toBe(false);
      expect(snapshot()).toEqual(before);
      expectPrototypeIntact();
    },
  );

  it('when GET has a junk query, then it is ignored and the comments are answered', async () => {
    const { server, postId } = await setUp();
    const answer = await rawRequest(server, { method: 'GET', path: `/posts/${postId}/comments?__proto__[x]=1&%E0=%A4&content=` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual([]);
  });

  it.each(['PUT', 'DELETE', 'PATCH'])('when %s is sent, then it answers 404 JSON and stores nothing', async (method) => {
    const { server, commentsPath, snapshot } = await setUp();
    const before = snapshot();
    const answer = await rawRequest(server, { method, path: commentsPath, headers: { 'content-type': 'application/json' }, body: '{"content":"x"}' });
    expectClientError(answer, { status: 404 });
    expect(snapshot()).toEqual(before);
  });
});

describe('comments after a storm of bad requests', () => {
  it('when hundreds of bad requests have been refused, then /healthz and /readyz answer 200 and a good comment is created', async () => {
    const { app, server, commentsPath, snapshot, postJson } = await setUp();
    const before = snapshot();
    const bad = [
      ...badJsonBodies('content', MAX_COMMENT_LENGTH).map((testCase) => () => send(app, commentsPath, testCase)),
      ...MALFORMED_JSON_BODIES.map(({ body }) => () => postJson(commentsPath, body)),
      ...ODD_PATH_IDS.map(({ raw }) => () => rawRequest(server, { method: 'GET', path: `/posts/${raw}/comments` })),
      ...ODD_PATH_IDS.map(({ raw }) => () => postJson(`/posts/${raw}/comments`, JSON.stringify({ content: 'x' }))),
    ];

    for (let round = 0; round < 4; round += 1) {
      for (const answer of await Promise.all(bad.map((makeRequest) => makeRequest()))) expectClientError(answer);
    }

    expect(snapshot()).toEqual(before);
    await request(server).get('/healthz').expect(200);
    await request(server).get('/readyz').expect(200);
    const good = await postJson(commentsPath, JSON.stringify({ content: 'still standing' }));
    expect(good.status).toBe(201);
    expect((await request(server).get(commentsPath)).body).toEqual([good.body]);
  });

  it('when 200 good and bad requests arrive at once, then every good comment is stored exactly once and no bad one is', async () => {
    const { server, bus, store, postId, commentsPath, postJson } = await setUp();
    const badBodies = MALFORMED_JSON_BODIES.map(({ body }) => body).concat(['{}', '{"content": 5}', '{"content": "   "}']);
    const contents = Array.from({ length: 200 }, (_, index) => `concurrent ${index} ${aComment()}`);

    const answers = await concurrently(200, async (index) => {
      if (index % 4 === 0) return { good: false, response: await postJson(commentsPath, badBodies[index % badBodies.length]!) };
      if (index % 4 === 1) return { good: false, response: await postJson('/posts/no-such-post/comments', JSON.stringify({ content: 'x' })) };
      return { good: true, content: contents[index]!, response: await postJson(commentsPath, JSON.stringify({ content: contents[index] })) };
    });

    const goods = answers.filter((answer) => answer.good);
    for (const { response } of answers.filter((answer) => !answer.good)) expectClientError(response);
    for (const { response, content } of goods) expect(response.body).toEqual({ id: expect.any(String), content, status: 'pending' });
    const listed = (await request(server).get(commentsPath)).body as { id: string; content: string }[];
    expect(listed.map((comment) => comment.content).sort()).toEqual(goods.map((answer) => answer.content).sort());
    expect(new Set(listed.map((comment) => comment.id)).size).toBe(goods.length);
    expect(bus.ofType('CommentCreated')).toHaveLength(goods.length);
    expect(store.hasPost('no-such-post')).toBe(false);
    expect(store.commentsOf(postId)).toHaveLength(goods.length);
  });
});

describe('/posts/:id/comments with generated input (fast-check)', () => {
  it('when the body is any JSON value or an object with hostile content and keys, then the outcome follows the content alone', async () => {
    const { store, postId, commentsPath, snapshot, postJson } = await setUp();
    const content = fc.oneof(hostileString(60), fc.string({ minLength: 1995, maxLength: 2005 }), hostileJsonValue());
    const body = fc.oneof(hostileJsonValue(['content']).map(toJsonText), hostileObjectText({ content }));
    const seen = { created: 0, refused: 0 };

    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const before = snapshot();
        const expected = acceptedText(text, 'content', MAX_COMMENT_LENGTH);

        const response = await postJson(commentsPath, text);

        if (expected === undefined) {
          expectClientError(response, { status: 400 });
          expect(snapshot()).toEqual(before);
          seen.refused += 1;
        } else {
          expect({ status: response.status, body: response.body }).toEqual({
            status: 201,
            body: { id: expect.any(String), content: expected, status: 'pending' },
          });
          expect(store.commentsOf(postId)!.at(-1)).toEqual(response.body);
          seen.created += 1;
        }
        expectPrototypeIntact();
      }),
      fcOptions(100),
    );
    expect(seen.created).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('when the post id is any string naming no post, then GET and POST answer 404, or 400 for broken percent-encoding, and change nothing', async () => {
    const { server, store, snapshot } = await setUp();
    const encodedId = hostileString(30).filter(isWellFormed).map((id) => encodeURIComponent(id));
    const rawSegment = fc.string({ unit: fc.constantFrom('%', 'e', '0', 'F', 'a', 'z', '.', '_', '~', '!', '9', 'D'), maxLength: 12 });

    await fc.assert(
      fc.asyncProperty(fc.oneof(encodedId, rawSegment), fc.constantFrom('GET', 'POST'), async (raw, method) => {
        const before = snapshot();
        const decoded = decodedOrRaw(raw);
        const expected = raw !== decoded || !raw.includes('%') ? 404 : 400;

        const answer = await rawRequest(server, {
          method,
          path: `/posts/${raw}/comments`,
          headers: { 'content-type': 'application/json' },
          body: method === 'POST' ? '{"content": "hello"}' : undefined,
        });

        expectClientError(answer, { status: expected, echoed: [raw, decoded] });
        expect(snapshot()).toEqual(before);
        expect(store.hasPost(decoded)).toBe(false);
      }),
      fcOptions(100),
    );
  });

  it('when a post has any id the contracts allow, then it can be commented on and its comments read by that id', async () => {
    const { server, store, postJson } = await setUp();
    const id = fc.stringMatching(ENTITY_ID_PATTERN);

    await fc.assert(
      fc.asyncProperty(id, async (postId) => {
        await postJson('/events', JSON.stringify({ type: 'PostCreated', data: { id: postId, title: 'generated' } })).expect(200);
        const path = `/posts/${encodeURIComponent(postId)}/comments`;

        const created = await postJson(path, JSON.stringify({ content: 'generated comment' }));

        expect(created.status).toBe(201);
        const listed = await request(server).get(path);
        expect(listed.status).toBe(200);
        expect(listed.body).toContainEqual(created.body);
        expect(store.commentsOf(postId)).toContainEqual(created.body);
      }),
      fcOptions(60),
    );
    expectPrototypeIntact();
  });
});

describeEventsEndpoint(async () => {
  const { server, snapshot } = await setUp();
  return {
    server,
    handledTypes: handledTypes(commentsEventHandlers(new CommentStore())),
    snapshot: () => JSON.stringify(snapshot()),
    validEvent: () => postCreated(),
  };
});

describeOperationalEndpoints(setUp);
