import zlib from 'node:zlib';
import request from 'supertest';
import fc from 'fast-check';
import { MemoryEngine, MAX_TITLE_LENGTH } from '@blog/contracts';
import { Lifecycle, EventReceiver } from '@blog/service-kit';
import { createApp } from '../../posts/src/app';
import { postsEventHandlers, PostStore } from '../../posts/src/store/postStore';
import { aTitle } from '../support/factories';
import { badJsonBodies, send } from '../support/badInput';
import { silentLogger } from '../support/silentLogger';
import { describeOperationalEndpoints } from './operationalEndpoints';
import {
  HUGE_BODY_BYTES,
  MALFORMED_JSON_BODIES,
  UNUSUAL_TEXT,
  WRONG_CONTENT_TYPES,
  concurrently,
  ILL_FORMED_TEXT,
  acceptedText,
  containsPollutedKey,
  decodedOrRaw,
  expectClientError,
  expectPrototypeIntact,
  expectSuccessOrClientError,
  fcOptions,
  hostileJsonValue,
  hostileObjectText,
  hostileString,
  hugeJsonBody,
  listen,
  pollutionBodies,
  rawRequest,
  toJsonText,
  type Listening,
} from './harness';

const CREATE_PATHS = ['/posts', '/posts/create'] as const;

let running: Listening[] = [];

async function setUp() {
  const bus = new MemoryEngine();
  const store = new PostStore();
  const lifecycle = new Lifecycle();
  const receiver = new EventReceiver({ engine: bus, handlers: postsEventHandlers(store), lifecycle, logger: silentLogger });
  lifecycle.markReady();
  const app = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger });
  const listening = await listen(app);
  running.push(listening);
  const { server } = listening;
  /** What a rejected request must leave as it was: the posts kept and the events published. */
  const snapshot = () => ({ list: JSON.stringify(store.toRecord()), events: JSON.stringify(bus.events) });
  const postJson = (path: string, body: string) => request(server).post(path).set('Content-Type', 'application/json').send(body);
  return { app, server, bus, store, snapshot, postJson };
}

afterEach(async () => {
  await Promise.all(running.map((listening) => listening.close()));
  running = [];
  expectPrototypeIntact();
});

describe.each(CREATE_PATHS)('POST %s with bad input', (path) => {
  describe.each(badJsonBodies('title', MAX_TITLE_LENGTH))('when the body is $name', (testCase) => {
    it(`then it answers ${testCase.status} with a clear error and the list and the log are unchanged`, async () => {
      const { app, snapshot } = await setUp();
      const before = snapshot();

      const response = await send(app, path, testCase);

      expectClientError(response, { status: testCase.status });
      expect(snapshot()).toEqual(before);
    });
  });

  it.each(MALFORMED_JSON_BODIES)('when the body is malformed JSON ($name), then it answers 400 and stores nothing', async ({ body }) => {
    const { snapshot, postJson } = await setUp();
    const before = snapshot();

    expectClientError(await postJson(path, body), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(WRONG_CONTENT_TYPES)('when the content type is %s, then it answers 415 and stores nothing', async (contentType) => {
    const { server, snapshot } = await setUp();
    const before = snapshot();

    const response = await request(server).post(path).set('Content-Type', contentType).send(JSON.stringify({ title: aTitle() }));

    expectClientError(response, { status: 415 });
    expect(snapshot()).toEqual(before);
  });

  it('when the body is megabytes long, then it answers 413 without reading it all and stores nothing', async () => {
    const { server, snapshot } = await setUp();
    const before = snapshot();

    const answer = await rawRequest(server, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: hugeJsonBody('title', HUGE_BODY_BYTES),
    });

    expectClientError(answer, { status: 413 });
    expect(snapshot()).toEqual(before);
  });

  it('when a small gzip body inflates to megabytes, then it answers 413 and stores nothing', async () => {
    const { server, snapshot } = await setUp();
    const before = snapshot();

    const answer = await rawRequest(server, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: zlib.gzipSync(hugeJsonBody('title', HUGE_BODY_BYTES)),
    });

    expectClientError(answer, { status: 413 });
    expect(snapshot()).toEqual(before);
  });

  it.each(['gzip', 'deflate', 'br'])('when the body claims %s encoding but does not inflate, then it answers 400 and stores nothing', async (encoding) => {
    const { server, snapshot } = await setUp();
    const before = snapshot();

    const answer = await rawRequest(server, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      body: JSON.stringify({ title: aTitle() }),
    });

    expectClientError(answer, { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it('when the body claims an unknown content encoding, then it answers 415 and stores nothing', async () => {
    const { server, snapshot } = await setUp();
    const before = snapshot();

    const answer = await rawRequest(server, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
      body: JSON.stringify({ title: aTitle() }),
    });

    expectClientError(answer, { status: 415 });
    expect(snapshot()).toEqual(before);
  });

  it('when the title bytes are not valid UTF-8, then it answers 400 saying so and stores nothing (no silent U+FFFD)', async () => {
    const { server, snapshot } = await setUp();
    const before = snapshot();
    const body = Buffer.concat([Buffer.from('{"title": "bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' bytes"}')]);

    const answer = await rawRequest(server, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body });

    expectClientError(answer, { status: 400 });
    expect(JSON.parse(answer.text).error).toBe('the body is not valid UTF-8');
    expect(snapshot()).toEqual(before);
  });

  it.each([
    ['zero-width spaces', '\u200b\u200b\u200b'],
    ['a byte-order mark and a word joiner', '\ufeff\u2060'],
    ['zero-width joiners between spaces', ' \u200d \u200c '],
    ['bidi controls', '\u202e\u2066'],
  ])('when the title is only %s, then it answers 400 as empty and stores nothing', async (_name, title) => {
    const { snapshot, postJson } = await setUp();
    const before = snapshot();

    const response = await postJson(path, JSON.stringify({ title }));

    expectClientError(response, { status: 400 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'title', message: expect.stringMatching(/visible character/) })]);
    expect(snapshot()).toEqual(before);
  });

  it.each([
    ['a number', 42],
    ['a boolean', true],
    ['an array', ['a title']],
    ['an object', { text: 'a title' }],
    ['null', null],
  ])('when the title is %s, then it answers 400 naming the title and stores nothing', async (_name, title) => {
    const { snapshot, postJson } = await setUp();
    const before = snapshot();

    const response = await postJson(path, JSON.stringify({ title }));

    expectClientError(response, { status: 400 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'title' })]);
    expect(snapshot()).toEqual(before);
  });

  it('when the title is missing but a look-alike field is there, then it answers 400 naming the title', async () => {
    const { snapshot, postJson } = await setUp();
    const before = snapshot();

    const response = await postJson(path, JSON.stringify({ Title: 'capitalised', titel: 'misspelt', name: 'other' }));

    expectClientError(response, { status: 400 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'title' })]);
    expect(snapshot()).toEqual(before);
  });

  it('when the body has extra fields, then they are ignored: the stored post is only {id, title} with an id of ours', async () => {
    const { server, bus, postJson } = await setUp();
    const title = aTitle();

    const response = await postJson(
      path,
      JSON.stringify({ title, id: 'chosen-by-client', comments: [{ id: 'c', content: 'x' }], status: 'approved', admin: true }),
    );

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), title });
    expect(response.body.id).not.toBe('chosen-by-client');
    expect((await request(server).get('/posts')).body).toEqual({ [response.body.id]: { id: response.body.id, title } });
    expect(bus.events.map((event) => event.data)).toEqual([{ id: response.body.id, title }]);
  });

  it(`when the title is exactly ${MAX_TITLE_LENGTH} characters after trimming, then it is accepted; one more is refused`, async () => {
    const { snapshot, postJson } = await setUp();
    const longest = 't'.repeat(MAX_TITLE_LENGTH);

    const accepted = await postJson(path, JSON.stringify({ title: `  ${longest}  ` }));
    expect(accepted.status).toBe(201);
    expect(accepted.body.title).toBe(longest);

    const before = snapshot();
    expectClientError(await postJson(path, JSON.stringify({ title: `${longest}t` })), { status: 400 });
    expectClientError(await postJson(path, JSON.stringify({ title: 't'.repeat(15_000) })), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(['\u00a0\u3000', '\t\n\r', '\ufeff', ' \u2028 '])('when the title is only whitespace (%j), then it answers 400', async (title) => {
    const { snapshot, postJson } = await setUp();
    const before = snapshot();
    expectClientError(await postJson(path, JSON.stringify({ title })), { status: 400 });
    expect(snapshot()).toEqual(before);
  });

  it.each(UNUSUAL_TEXT)('when the title has $name, then it is stored and listed exactly as sent', async ({ text }) => {
    const { server, postJson } = await setUp();

    const response = await postJson(path, JSON.stringify({ title: text }));

    expect(response.status).toBe(201);
    expect(response.body.title).toBe(text);
    expect((await request(server).get('/posts')).body[response.body.id]).toEqual({ id: response.body.id, title: text });
  });

  it.each(ILL_FORMED_TEXT)('when the title, an extra field or a key has $name, then it answers 400 and stores nothing', async ({ text }) => {
    const { snapshot, postJson } = await setUp();
    const before = snapshot();
    for (const body of [{ title: text }, { title: 'fine', extra: [text] }, { title: 'fine', [text]: 1 }]) {
      const response = await postJson(path, JSON.stringify(body));
      expectClientError(response, { status: 400 });
      expect(response.body.details).toEqual([{ message: expect.stringMatching(/well-formed Unicode/) }]);
    }
    expect(snapshot()).toEqual(before);
  });

  it.each(pollutionBodies('title', 'A safe title'))(
    'when the body carries $name, then the post is created without it and no prototype is touched',
    async ({ body }) => {
      const { server, bus, postJson } = await setUp();

      const response = await postJson(path, body);

      expect(response.status).toBe(201);
      expect(response.body).toEqual({ id: expect.any(String), title: 'A safe title' });
      expectPrototypeIntact();
      const listed = (await request(server).get('/posts')).body[response.body.id];
      expect(Object.keys(listed).sort()).toEqual(['id', 'title']);
      expect(containsPollutedKey(listed)).toBe(false);
      expect(containsPollutedKey(bus.events[0]!.data)).toBe(false);
    },
  );
});

describe('odd paths, methods and queries on posts', () => {
  it.each([
    '/posts/%E0%A4%A',
    '/posts/%',
    '/posts/__proto__',
    '/posts/constructor',
    '/posts/create/extra',
    '/posts/..%2Fcreate',
    '/posts%00',
    '/%2e%2e/posts',
    '/posts/create%20',
  ])('when a post is sent to %s, then it answers a clear 4xx (or creates it on a documented route) and never 5xx', async (path) => {
    const { server, snapshot } = await setUp();
    const before = snapshot();

    const answer = await rawRequest(server, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: aTitle() }),
    });

    if (!expectSuccessOrClientError(answer, [201], { echoed: [path, decodedOrRaw(path)] })) {
      expect(snapshot()).toEqual(before);
    }
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('when %s /posts is sent, then it answers 404 JSON and stores nothing', async (method) => {
    const { server, snapshot } = await setUp();
    const before = snapshot();
    const answer = await rawRequest(server, { method, path: '/posts', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' });
    expectClientError(answer, { status: 404 });
    expect(snapshot()).toEqual(before);
  });

  it.each([
    ['a prototype-polluting query', '?__proto__[polluted]=1&constructor[prototype][polluted]=1'],
    ['broken percent-encoding', '?title=%E0%A4%A&%=%'],
    ['repeated and invalid paging', '?after=-1&limit=abc&limit=2'],
    ['a very long key', `?${'q'.repeat(6000)}=1`],
  ])('when GET /posts has %s in its query, then it is ignored and the list is answered', async (_name, query) => {
    const { server, postJson } = await setUp();
    const created = await postJson('/posts', JSON.stringify({ title: aTitle() }));

    const answer = await rawRequest(server, { method: 'GET', path: `/posts${query}` });

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ [created.body.id]: created.body });
    expectPrototypeIntact();
  });

  it('when GET /posts carries a malformed JSON body, then the body is ignored and the list is answered', async () => {
    const { server } = await setUp();
    const answer = await rawRequest(server, { method: 'GET', path: '/posts', headers: { 'content-type': 'application/json' }, body: '{"oops' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({});
  });
});

describe('posts after a storm of bad requests', () => {
  it('when hundreds of bad requests have been refused, then /healthz and /readyz answer 200 and a good post is created', async () => {
    const { app, server, snapshot, postJson } = await setUp();
    const before = snapshot();
    const bad = [
      ...badJsonBodies('title', MAX_TITLE_LENGTH).map((testCase) => () => send(app, '/posts', testCase)),
      ...MALFORMED_JSON_BODIES.map(({ body }) => () => postJson('/posts/create', body)),
      ...WRONG_CONTENT_TYPES.map((type) => () => request(server).post('/posts').set('Content-Type', type).send('{"title":"x"}')),
      () => rawRequest(server, { method: 'POST', path: '/posts', headers: { 'content-type': 'application/json' }, body: hugeJsonBody('title', HUGE_BODY_BYTES) }),
    ];

    for (let round = 0; round < 4; round += 1) {
      for (const answer of await Promise.all(bad.map((makeRequest) => makeRequest()))) expectClientError(answer);
    }

    expect(snapshot()).toEqual(before);
    await request(server).get('/healthz').expect(200);
    await request(server).get('/readyz').expect(200);
    const good = await postJson('/posts', JSON.stringify({ title: 'still standing' }));
    expect(good.status).toBe(201);
    expect((await request(server).get('/posts')).body).toEqual({ [good.body.id]: good.body });
  });

  it('when 200 good and bad requests arrive at once, then every good one is stored exactly once and no bad one is', async () => {
    const { server, bus, postJson } = await setUp();
    const badBodies = [...badJsonBodies('title', MAX_TITLE_LENGTH).filter((testCase) => testCase.status === 400), ...MALFORMED_JSON_BODIES].map(
      (testCase) => testCase.body,
    );
    const titles = Array.from({ length: 200 }, (_, index) => `concurrent ${index} ${aTitle()}`);

    const answers = await concurrently(200, async (index) => {
      const path = CREATE_PATHS[index % 2]!;
      if (index % 3 === 0) return { good: false, response: await postJson(path, badBodies[index % badBodies.length]!) };
      return { good: true, title: titles[index]!, response: await postJson(path, JSON.stringify({ title: titles[index] })) };
    });

    const goods = answers.filter((answer) => answer.good);
    for (const { response } of answers.filter((answer) => !answer.good)) expectClientError(response, { status: 400 });
    for (const { response, title } of goods) expect(response.body).toEqual({ id: expect.any(String), title });
    const listed = (await request(server).get('/posts')).body as Record<string, { id: string; title: string }>;
    expect(Object.values(listed).map((post) => post.title).sort()).toEqual(goods.map((answer) => answer.title).sort());
    expect(Object.keys(listed).sort()).toEqual(goods.map((answer) => answer.response.body.id).sort());
    expect(bus.ofType('PostCreated')).toHaveLength(goods.length);
  });
});

describe('POST /posts with generated input (fast-check)', () => {
  it('when the body is any JSON value, then it is created exactly when it is an object with a valid title, else 400 and nothing changes', async () => {
    const { snapshot, postJson, store } = await setUp();
    const outcomes = outcomeCounter();
    // Any value at all, and objects that do have a title of any kind, so both outcomes are reached.
    const body = fc.oneof(
      hostileJsonValue(['title']).map(toJsonText),
      hostileObjectText({ title: fc.oneof(hostileString(30), hostileJsonValue()) }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...CREATE_PATHS), async (text, path) => {
        outcomes.note(await expectPostOutcome({ store, snapshot, postJson }, path, text));
      }),
      fcOptions(100),
    );
    outcomes.expectBoth();
  });

  it('when an object has a hostile title and prototype-polluting extra keys, then the outcome follows the title alone', async () => {
    const { snapshot, postJson, store } = await setUp();
    const outcomes = outcomeCounter();
    const title = fc.oneof(hostileString(60), fc.string({ minLength: 195, maxLength: 210 }), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
    await fc.assert(
      fc.asyncProperty(hostileObjectText({ title }), fc.constantFrom(...CREATE_PATHS), async (text, path) => {
        outcomes.note(await expectPostOutcome({ store, snapshot, postJson }, path, text));
        expectPrototypeIntact();
      }),
      fcOptions(100),
    );
    outcomes.expectBoth();
  });

  it('when the body is arbitrary text sent as JSON, then it is 201 only for a valid object and 400 otherwise', async () => {
    const { snapshot, postJson, store } = await setUp();
    const outcomes = outcomeCounter();
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.json().map((json) => json.slice(0, Math.max(0, json.length - 1))),
      fc.json(),
      fc.string({ maxLength: 30 }).map((title) => `{"title": ${JSON.stringify(title)}}`),
    );
    await fc.assert(
      fc.asyncProperty(text, async (body) => {
        outcomes.note(await expectPostOutcome({ store, snapshot, postJson }, '/posts', body));
      }),
      fcOptions(100),
    );
    outcomes.expectBoth();
  });

  it('when the content type is arbitrary, then the answer is 201 or a clear 4xx and a refusal stores nothing', async () => {
    const { server, snapshot } = await setUp();
    const contentType = fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.tuple(fc.constantFrom('application/json', 'text/json', 'application/JSON', 'application/x-json'), fc.string({ maxLength: 20 })).map(([type, rest]) => `${type}${rest}`),
      fc.constantFrom('application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json; charset=ascii'),
    );
    await fc.assert(
      fc.asyncProperty(contentType, async (type) => {
        const before = snapshot();
        const answer = await rawRequest(server, {
          method: 'POST',
          path: '/posts',
          headers: { 'content-type': type },
          body: JSON.stringify({ title: 'typed' }),
        });
        if (!expectSuccessOrClientError(answer, [201], { echoed: [type] })) expect(snapshot()).toEqual(before);
        if (/^application\/json\s*(;\s*charset=utf-8)?$/i.test(type)) expect(answer.status).toBe(201);
      }),
      fcOptions(100),
    );
  });

  it('when GET /posts has an arbitrary query string, then it answers 200 with the same list', async () => {
    const { server, postJson } = await setUp();
    const created = await postJson('/posts', JSON.stringify({ title: aTitle() }));
    const expected = { [created.body.id]: created.body };
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (query) => {
        const answer = await rawRequest(server, { method: 'GET', path: `/posts?${encodeURI(query)}` });
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.text)).toEqual(expected);
      }),
      fcOptions(50),
    );
  });
});

/** Sends one body and checks the answer against what the contract says it must be for that body. */
async function expectPostOutcome(
  { store, snapshot, postJson }: Pick<Awaited<ReturnType<typeof setUp>>, 'store' | 'snapshot' | 'postJson'>,
  path: string,
  text: string,
): Promise<'created' | 'refused'> {
  const before = snapshot();
  const title = acceptedText(text, 'title', MAX_TITLE_LENGTH);

  const response = await postJson(path, text);

  if (title === undefined) {
    expectClientError(response, { status: 400 });
    expect(snapshot()).toEqual(before);
    return 'refused';
  }
  expect({ status: response.status, body: response.body }).toEqual({ status: 201, body: { id: expect.any(String), title } });
  const kept = store.toRecord();
  expect(kept[response.body.id]).toEqual({ id: response.body.id, title });
  expect(Object.keys(kept)).toHaveLength(Object.keys(JSON.parse(before.list)).length + 1);
  return 'created';
}

/** Counts the outcomes of a property's runs, so a generator that never reaches one side is noticed. */
function outcomeCounter() {
  const seen = { created: 0, refused: 0 };
  return {
    note: (outcome: 'created' | 'refused') => {
      seen[outcome] += 1;
    },
    expectBoth: () => {
      expect(seen.created).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
    },
  };
}

describeOperationalEndpoints(setUp);
