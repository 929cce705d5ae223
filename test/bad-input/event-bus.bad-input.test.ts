import zlib from 'node:zlib';
import request from 'supertest';
import fc from 'fast-check';
import { EVENT_ID_PATTERN, EVENT_TYPE_PATTERN, MAX_ERROR_DETAILS, MAX_EVENT_TYPE_LENGTH, MAX_ID_LENGTH, MAX_JSON_DEPTH } from '@blog/contracts';
import type { Bus } from '../../event-bus/src/bus';
import { MAX_EVENT_BATCH } from '@blog/contracts';
import { postCreated } from '../support/factories';
import { removeTempDirs } from '../support/tempDirs';
import { describeOperationalEndpoints } from './operationalEndpoints';
import {
  HUGE_BODY_BYTES,
  ILL_FORMED_TEXT,
  JsonObjectText,
  MALFORMED_JSON_BODIES,
  UNUSUAL_TEXT,
  WRONG_CONTENT_TYPES,
  concurrently,
  containsIllFormedText,
  containsPollutedKey,
  dangerousKey,
  expectClientError,
  expectPrototypeIntact,
  expectSuccessOrClientError,
  fcOptions,
  hostileJsonValue,
  hostileString,
  hugeJsonBody,
  closeListeningBus,
  listeningBus,
  rawRequest,
  toJsonText,
  type Listening,
} from './harness';

/**
 * One real bus (SQLite log in a temporary folder, no subscribers) for the whole file: opening one starts a
 * writer thread, so each test compares the log before and after instead of starting afresh.
 */
let bus: Bus;
let listening: Listening;

beforeAll(async () => {
  ({ bus, listening } = await listeningBus('bus-bad-input-'));
});

afterAll(async () => {
  await closeListeningBus({ bus, listening });
  removeTempDirs();
});

afterEach(() => expectPrototypeIntact());

const server = () => listening.server;

/** The whole log as the bus serves it: what a refused publish must leave exactly as it was. */
async function logText(): Promise<string> {
  const answer = await request(server()).get('/events?after=0&limit=10000');
  expect(answer.status).toBe(200);
  return answer.text;
}

async function storedEvents(): Promise<{ id: string; source: string; seq: number; type: string; data: unknown }[]> {
  return JSON.parse(await logText());
}

const publish = (body: unknown) =>
  request(server()).post('/events').set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));

let counter = 0;
/** A valid CloudEvent with a fresh id. */
const cloudEvent = (overrides: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: `bad-input-${(counter += 1)}-${Math.random().toString(36).slice(2)}`,
  source: '/bad-input-tests',
  type: 'PostCreated',
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: postCreated().data,
  ...overrides,
});

describe('POST /events (publish) with bad input', () => {
  it.each(MALFORMED_JSON_BODIES)('when the body is malformed JSON ($name), then it answers 400 and stores nothing', async ({ body }) => {
    const before = await logText();
    expectClientError(await publish(body), { status: 400 });
    expect(await logText()).toBe(before);
  });

  it.each(WRONG_CONTENT_TYPES)('when the content type is %s, then it answers 415 and stores nothing', async (contentType) => {
    const before = await logText();
    const response = await request(server()).post('/events').set('Content-Type', contentType).send(JSON.stringify(cloudEvent()));
    expectClientError(response, { status: 415 });
    expect(await logText()).toBe(before);
  });

  it('when there is no body, or an empty JSON body, then it answers 415 or 400 and stores nothing', async () => {
    const before = await logText();
    expectClientError(await rawRequest(server(), { method: 'POST', path: '/events' }), { status: 415 });
    expectClientError(await rawRequest(server(), { method: 'POST', path: '/events', headers: { 'content-type': 'application/json' }, body: '' }), {
      status: 400,
    });
    expect(await logText()).toBe(before);
  });

  it('when the body is megabytes long, or inflates to megabytes, then it answers 413 and stores nothing', async () => {
    const before = await logText();
    const huge = hugeJsonBody('type', HUGE_BODY_BYTES);
    const headers = { 'content-type': 'application/json' };

    expectClientError(await rawRequest(server(), { method: 'POST', path: '/events', headers, body: huge }), { status: 413 });
    expectClientError(
      await rawRequest(server(), { method: 'POST', path: '/events', headers: { ...headers, 'content-encoding': 'gzip' }, body: zlib.gzipSync(huge) }),
      { status: 413 },
    );
    expect(await logText()).toBe(before);
  });

  it(`when an event's data nests deeper than ${MAX_JSON_DEPTH} levels, then it answers 400 and the bus goes on storing`, async () => {
    const before = await logText();
    // 10,000 levels is 20 KiB: it parses, but overflowed the stack when handed to the log's writer thread,
    // which left the log waiting forever on a commit that was never sent.
    for (const depth of [MAX_JSON_DEPTH + 1, 10_000, 200_000]) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      expectClientError(await publish(`{"type": "Deep", "data": ${deep}}`), { status: 400 });
    }
    expect(await logText()).toBe(before);

    const good = cloudEvent();
    const response = await publish(good);
    expect(response.status).toBe(201);
    expect((await storedEvents()).at(-1)).toMatchObject({ id: good.id, data: good.data });
  });

  it(`when the data nests exactly ${MAX_JSON_DEPTH} levels deep (batch and envelope included), then it is stored`, async () => {
    const depth = MAX_JSON_DEPTH - 2;
    const data = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    const response = await publish([{ type: 'Deep', data }]);
    expect(response.status).toBe(201);
  });

  it.each([
    ['an empty batch', []],
    [`a batch of ${MAX_EVENT_BATCH + 1}`, Array.from({ length: MAX_EVENT_BATCH + 1 }, () => ({ type: 'Many', data: 1 }))],
    ['no type', { data: {} }],
    ['a numeric type', { type: 7, data: {} }],
    ['an empty type', { type: '', data: {} }],
    ['a type over 200 characters', { type: 'T'.repeat(201), data: {} }],
    ['no data', { type: 'SomethingNew' }],
    ['an empty id', { type: 'SomethingNew', data: {}, id: '' }],
    [`an id over ${MAX_ID_LENGTH} characters`, { type: 'SomethingNew', data: {}, id: 'i'.repeat(MAX_ID_LENGTH + 1) }],
    ['a numeric id', { type: 'SomethingNew', data: {}, id: 12 }],
    ['an empty source', { type: 'SomethingNew', data: {}, source: '' }],
    ['a source over 500 characters', { type: 'SomethingNew', data: {}, source: 's'.repeat(501) }],
    ['a time that is not ISO 8601', { type: 'SomethingNew', data: {}, time: 'yesterday' }],
    ['a month 13', { type: 'SomethingNew', data: {}, time: '2026-13-01T00:00:00Z' }],
    ['another specversion', { type: 'SomethingNew', data: {}, specversion: '0.3' }],
    ['another datacontenttype', { type: 'SomethingNew', data: {}, datacontenttype: 'text/plain' }],
    ['a known type with bad data', { type: 'PostCreated', data: { title: 'no id' } }],
    ['a known type with data of the wrong type', { type: 'CommentCreated', data: 'a comment' }],
    ['a batch with null in it', [{ type: 'Fine', data: 1 }, null]],
    ['a batch with a bad event last', [{ type: 'Fine', data: 1 }, { type: 'Fine', data: 2 }, { type: 'PostCreated', data: {} }]],
  ])('when the publish has %s, then it answers 400 with the problem and stores nothing', async (_name, body) => {
    const before = await logText();
    const response = await publish(body);
    expectClientError(response, { status: 400 });
    expect(response.body.details.length).toBeGreaterThan(0);
    expect(await logText()).toBe(before);
  });

  it.each([
    ['half a million numbers', `[${'1,'.repeat(500_000)}1]`, /^a batch holds 1 to \d+ events/],
    [`${MAX_EVENT_BATCH} events with bad data`, JSON.stringify(Array.from({ length: MAX_EVENT_BATCH }, () => ({ type: 'PostCreated', data: { id: 7, title: 8 } }))), /^and \d+ more problems$/],
  ])('when a 1 MiB publish is an array of %s, then the 400 lists a few problems, counts the rest and stores nothing', async (_name, body, last) => {
    const before = await logText();
    const response = await publish(body);
    expectClientError(response, { status: 400 });
    expect(response.text.length).toBeLessThan(4096);
    expect(response.body.details.length).toBeLessThanOrEqual(MAX_ERROR_DETAILS + 1);
    expect(response.body.details.at(-1).message).toMatch(last);
    expect(await logText()).toBe(before);
  });

  it('when an event of a batch is bad, then the 400 names it by index', async () => {
    const response = await publish([cloudEvent(), cloudEvent({ time: 'noon' }), cloudEvent()]);
    expectClientError(response, { status: 400 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: '1.time' })]);
  });

  it('when an event has extra fields, then it is stored with the CloudEvents attributes only', async () => {
    const event = cloudEvent();
    const response = await publish({ ...event, seq: 999_999, extra: 'x', traceparent: 'y' });
    expect(response.status).toBe(201);
    const stored = (await storedEvents()).find((candidate) => candidate.id === event.id)!;
    expect(Object.keys(stored).sort()).toEqual(['data', 'datacontenttype', 'id', 'seq', 'source', 'specversion', 'time', 'type']);
    expect(stored.seq).toBe(response.body.seq);
  });

  it('when a known event carries extra and prototype-polluting data fields, then it is stored with the contract fields only', async () => {
    const event = cloudEvent();
    const data = JSON.stringify(event.data).slice(0, -1);
    const text = `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "id": ${JSON.stringify(event.id)}, "source": "/bad-input-tests", "type": "PostCreated", "data": ${data}, "__proto__": {"polluted": true}, "admin": true}}`;

    const response = await publish(text);

    expect(response.status).toBe(201);
    expectPrototypeIntact();
    const stored = (await storedEvents()).find((candidate) => candidate.id === event.id)!;
    expect(stored.data).toEqual(event.data);
    expect(containsPollutedKey(stored)).toBe(false);
  });

  it('when an unknown event type carries prototype-polluting keys in its data, then they are kept as plain data and no prototype is touched', async () => {
    const id = `pollution-${Date.now()}`;
    const response = await publish(`{"id": "${id}", "type": "Opaque", "data": {"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}}`);

    expect(response.status).toBe(201);
    expectPrototypeIntact();
    const stored = (await storedEvents()).find((candidate) => candidate.id === id)!;
    expect(Object.keys(stored.data as object)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(stored.data)).toBe(Object.prototype);
  });

  it.each(ILL_FORMED_TEXT)('when the id, source, type or data has $name, then it answers 400 and stores nothing', async ({ text }) => {
    const before = await logText();
    for (const event of [cloudEvent({ id: text }), cloudEvent({ source: text }), cloudEvent({ type: text }), cloudEvent({ type: 'Opaque', data: { [text]: text } })]) {
      expectClientError(await publish(event), { status: 400 });
    }
    expect(await logText()).toBe(before);
  });

  it.each(['\ufffd', 'a\u0000b', '💥', 'a b', 'a\r\nX-Injected: 1', ''])('when an id holds %j (not visible ASCII: it could not be a NATS header), then it answers 400 naming the id and stores nothing', async (id) => {
    const before = await logText();
    const response = await publish({ id, source: '/odd-ids', type: 'Odd', data: 1 });
    expectClientError(response, { status: 400 });
    expect(JSON.stringify(response.body.details)).toContain('"id"');
    expect(await logText()).toBe(before);
  });

  it('when ids differ only in case or punctuation, then each is its own event, and a repeat is stored once', async () => {
    const ids = ['ID', 'id', 'Id', 'id.', 'id-', 'id_', '~id', '{id}'].map((id) => `${id}-${Date.now()}`);

    const first = await Promise.all(ids.map((id) => publish({ id, source: '/odd-ids', type: 'Odd', data: id })));
    const again = await Promise.all(ids.map((id) => publish({ id, source: '/odd-ids', type: 'Odd', data: 'changed' })));

    expect(first.map((response) => response.status)).toEqual(ids.map(() => 201));
    expect(new Set(first.map((response) => response.body.seq)).size).toBe(ids.length);
    expect(again.map((response) => response.status)).toEqual(ids.map(() => 200));
    expect(again.map((response) => response.body.seq)).toEqual(first.map((response) => response.body.seq));
    const stored = (await storedEvents()).filter((event) => event.source === '/odd-ids' && ids.includes(event.id));
    expect(stored.map((event) => [event.id, event.data])).toEqual(ids.map((id) => [id, id]));
  });

  it.each(UNUSUAL_TEXT)('when the data has $name, then it is stored and read back exactly', async ({ text }) => {
    const event = cloudEvent({ type: 'Odd', data: { text } });
    expect((await publish(event)).status).toBe(201);
    expect((await storedEvents()).find((stored) => stored.id === event.id)).toMatchObject({ type: event.type, data: { text } });
  });

  it.each(UNUSUAL_TEXT)('when the type has $name (it could not be a NATS subject), then it answers 400 naming the type and stores nothing', async ({ text }) => {
    const before = await logText();
    const response = await publish(cloudEvent({ type: `Odd ${text}`.slice(0, 200), data: {} }));
    expectClientError(response, { status: 400 });
    expect(JSON.stringify(response.body.details)).toContain('"type"');
    expect(await logText()).toBe(before);
  });
});

describe('GET /events, /subscribers and /dead-letters with odd requests', () => {
  it.each([
    'after=-1',
    'after=abc',
    'after=1.5',
    'after=1e400',
    'after=9007199254740993',
    'after=1&after=2',
    'after[]=1',
    'limit=0',
    'limit=10001',
    'limit=-5',
    'limit=ten',
    'unknown=1',
    '__proto__[polluted]=1',
    'after=%E0%A4%A',
  ])('when the query is %s, then it answers 400 naming the problem', async (query) => {
    const answer = await rawRequest(server(), { method: 'GET', path: `/events?${query}` });
    expectClientError(answer, { status: 400, echoed: [query, ...query.split(/[=&]/)] });
    expectPrototypeIntact();
  });

  it.each(['after=', 'limit=1', 'after=0x1', 'after=1e1', 'after=%20'])('when the query is %s, then it answers 200 with a page, or a clear 400', async (query) => {
    const answer = await rawRequest(server(), { method: 'GET', path: `/events?${query}` });
    if (expectSuccessOrClientError(answer, [200])) expect(Array.isArray(JSON.parse(answer.text))).toBe(true);
  });

  it('when /subscribers and /dead-letters are asked with junk, then they answer 200 JSON', async () => {
    for (const path of ['/subscribers?__proto__=1', '/dead-letters?%E0=%A4']) {
      const answer = await rawRequest(server(), { method: 'GET', path, headers: { 'content-type': 'application/json' }, body: '{"oops' });
      expect(answer.status).toBe(200);
      expect(Array.isArray(JSON.parse(answer.text))).toBe(true);
    }
  });

  it.each([
    ['malformed JSON', '{"seq": '],
    ['an unknown field', '{"everything": true}'],
    ['a prototype-polluting key', '{"__proto__": {"polluted": true}}'],
    ['a negative seq', '{"seq": -1}'],
    ['a string seq', '{"seq": "1"}'],
    ['an empty subscriber', '{"subscriber": ""}'],
    ['an array', '[]'],
  ])('when a dead-letter retry has %s, then it answers 400', async (_name, body) => {
    const answer = await rawRequest(server(), { method: 'POST', path: '/dead-letters/retry', headers: { 'content-type': 'application/json' }, body });
    expectClientError(answer, { status: 400, echoed: ['everything', '__proto__'] });
    expectPrototypeIntact();
  });

  it('when a dead-letter retry is not JSON, then it answers 415; an empty filter is accepted', async () => {
    expectClientError(await rawRequest(server(), { method: 'POST', path: '/dead-letters/retry', headers: { 'content-type': 'text/plain' }, body: 'all' }), {
      status: 415,
    });
    const all = await rawRequest(server(), { method: 'POST', path: '/dead-letters/retry', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(all.status).toBe(202);
    expect(JSON.parse(all.text)).toEqual({ retrying: 0 });
  });
});

describe('the bus after a storm of bad requests', () => {
  it('when hundreds of bad requests have been refused, then /healthz and /readyz answer 200 and a good publish is stored', async () => {
    const before = await logText();

    for (let round = 0; round < 4; round += 1) {
      const answers = await Promise.all([
        ...MALFORMED_JSON_BODIES.map(({ body }) => publish(body)),
        ...WRONG_CONTENT_TYPES.map((type) => request(server()).post('/events').set('Content-Type', type).send('{}')),
        publish([]),
        publish({ type: 'PostCreated', data: { id: 5 } }),
        publish(`{"type": "Deep", "data": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
        rawRequest(server(), { method: 'GET', path: '/events?after=-1' }),
        rawRequest(server(), { method: 'POST', path: '/events', headers: { 'content-type': 'application/json' }, body: hugeJsonBody('type', HUGE_BODY_BYTES) }),
      ]);
      for (const answer of answers) expectClientError(answer);
    }

    expect(await logText()).toBe(before);
    await request(server()).get('/healthz').expect(200);
    await request(server()).get('/readyz').expect(200);
    const good = cloudEvent();
    expect((await publish(good)).status).toBe(201);
    expect((await storedEvents()).at(-1)).toMatchObject({ id: good.id });
  });

  it('when 200 publishes, good, repeated and bad, arrive at once, then each good event is stored exactly once, in consecutive seqs', async () => {
    const lastBefore = bus.log.lastSeq;
    const events = Array.from({ length: 100 }, () => cloudEvent());

    const answers = await concurrently(200, async (index) => {
      // 100 new events, 50 of them published a second time (a retry after a lost answer), and 50 bad ones.
      if (index < 150) return { index, good: true, response: await publish(events[index % 100]) };
      return { index, good: false, response: await publish({ ...events[index % 100], time: 'not a time' }) };
    });

    for (const { good, response } of answers) {
      if (good) expect([200, 201]).toContain(response.status);
      else expectClientError(response, { status: 400 });
    }
    const seqOf = new Map<string, number>();
    for (const { index, good, response } of answers) {
      if (!good) continue;
      const id = events[index % 100]!.id;
      expect(response.body.id).toBe(id);
      if (seqOf.has(id)) expect(response.body.seq).toBe(seqOf.get(id));
      seqOf.set(id, response.body.seq);
    }
    const stored = (await storedEvents()).filter((event) => event.seq > lastBefore);
    expect(stored.map((event) => event.id).sort()).toEqual(events.map((event) => event.id).sort());
    expect(stored.map((event) => event.seq)).toEqual(stored.map((_, offset) => lastBefore + 1 + offset));
  });
});

describe('the bus with generated input (fast-check)', () => {
  it('when the body is any JSON value, then it answers 201/200 or a clear 400, and a 400 stores nothing', async () => {
    const event = fc.oneof(
      hostileJsonValue(['type', 'data', 'id', 'source', 'time', 'specversion']),
      fc
        .tuple(fc.oneof(fc.constantFrom('PostCreated', 'CommentCreated', 'Fine'), hostileString(12)), hostileJsonValue(['id', 'title', 'content']))
        .map(([type, data]) => new JsonObjectText([['type', type], ['data', data]])),
    );
    const body = fc.oneof(event, fc.array(event, { minLength: 1, maxLength: 4 }));
    const seen = { stored: 0, refused: 0 };

    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const before = await logText();
        const lastBefore = bus.log.lastSeq;

        const response = await publish(toJsonText(value));

        if (expectSuccessOrClientError(response, [200, 201])) {
          const receipts = Array.isArray(value) ? response.body : [response.body];
          expect(receipts).toHaveLength(Array.isArray(value) ? value.length : 1);
          // Every event of the body was new (anonymous publishes get fresh ids), so the log grew by all of them.
          expect(bus.log.lastSeq).toBe(lastBefore + receipts.length);
          seen.stored += 1;
        } else {
          expect(response.status).toBe(400);
          expect(await logText()).toBe(before);
          seen.refused += 1;
        }
        expectPrototypeIntact();
      }),
      fcOptions(60),
    );
    expect(seen.stored).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('when an event of an unknown type has generated type, id, source and data, then it is stored exactly when valid, data unchanged', async () => {
    const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
    const field = (maxLength: number) => fc.oneof(hostileString(30), fc.string({ minLength: maxLength - 2, maxLength: maxLength + 2 }), fc.integer());
    const seen = { stored: 0, refused: 0 };

    await fc.assert(
      fc.asyncProperty(
        fc.oneof(field(200), fc.stringMatching(/^[A-Za-z0-9_-]{1,20}(\.[A-Za-z0-9_-]{1,8}){0,2}$/)).filter((type) => !['PostCreated', 'CommentCreated', 'CommentModerated', 'CommentUpdated'].includes(type as string)),
        maybe(fc.oneof(field(MAX_ID_LENGTH), fc.stringMatching(/^[\x21-\x7e]{1,40}$/))),
        maybe(field(500)),
        hostileJsonValue(['id', 'postId']),
        fc.array(fc.tuple(dangerousKey(['data']), hostileJsonValue()), { maxLength: 2 }),
        async (type, id, source, data, extras) => {
          const before = await logText();
          const entries: [string, unknown][] = [...extras, ['type', type], ['data', data]];
          if (id !== undefined) entries.push(['id', id]);
          if (source !== undefined) entries.push(['source', source]);
          const text = new JsonObjectText(entries).toJSONText();
          const lengthWithin = (value: unknown, max: number) => typeof value === 'string' && value.length >= 1 && value.length <= max;
          const valid =
            lengthWithin(type, MAX_EVENT_TYPE_LENGTH) &&
            EVENT_TYPE_PATTERN.test(type as string) &&
            (id === undefined || (lengthWithin(id, MAX_ID_LENGTH) && EVENT_ID_PATTERN.test(id as string))) &&
            (source === undefined || lengthWithin(source, 500)) &&
            !containsIllFormedText(JSON.parse(text));

          const response = await publish(text);

          if (!valid) {
            expectClientError(response, { status: 400 });
            expect(await logText()).toBe(before);
            seen.refused += 1;
            return;
          }
          // 200 when this source and id were generated before: the first event stands.
          expect([200, 201]).toContain(response.status);
          if (response.status === 201) {
            const stored = (await storedEvents()).at(-1)!;
            expect(stored.seq).toBe(response.body.seq);
            expect(stored.type).toBe(type);
            expect(stored.data).toEqual(JSON.parse(toJsonText(data)));
            if (id !== undefined) expect(stored.id).toBe(id);
            if (source !== undefined) expect(stored.source).toBe(source);
            seen.stored += 1;
          } else {
            expect(await logText()).toBe(before);
          }
          expectPrototypeIntact();
        },
      ),
      fcOptions(80),
    );
    expect(seen.stored).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('when GET /events has generated after and limit values, then it answers a page after `after` of at most `limit`, or a clear 400', async () => {
    const value = fc.oneof(fc.nat({ max: 50 }).map(String), hostileString(8).filter((text) => /^[\x20-\x7e]*$/.test(text)), fc.constantFrom('-1', '1e3', '0x10', '', ' 3 ', '1.0', 'Infinity'));
    await fc.assert(
      fc.asyncProperty(maybeArb(value), maybeArb(value), async (after, limit) => {
        const query = [after === undefined ? '' : `after=${encodeURIComponent(after)}`, limit === undefined ? '' : `limit=${encodeURIComponent(limit)}`]
          .filter(Boolean)
          .join('&');
        const answer = await rawRequest(server(), { method: 'GET', path: `/events${query ? `?${query}` : ''}` });
        if (!expectSuccessOrClientError(answer, [200], { echoed: [after ?? '', limit ?? ''] })) return;
        const page = JSON.parse(answer.text) as { seq: number }[];
        const afterNumber = after === undefined ? 0 : Number(after);
        const limitNumber = limit === undefined ? Infinity : Number(limit);
        expect(page.every((event) => event.seq > afterNumber)).toBe(true);
        expect(page.length).toBeLessThanOrEqual(limitNumber);
        expect(page.map((event) => event.seq)).toEqual(page.map((_, offset) => (page[0]?.seq ?? 0) + offset));
      }),
      fcOptions(60),
    );
  });
});

function maybeArb<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined });
}

describeOperationalEndpoints(async () => ({ server: server() }));
