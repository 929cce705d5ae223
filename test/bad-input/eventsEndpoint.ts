import type { Server } from 'node:http';
import request from 'supertest';
import fc from 'fast-check';
import { MAX_ERROR_DETAILS, MAX_JSON_DEPTH, type KnownEvent } from '@blog/contracts';
import {
  HUGE_BODY_BYTES,
  MALFORMED_JSON_BODIES,
  ILL_FORMED_TEXT,
  WRONG_CONTENT_TYPES,
  containsIllFormedText,
  dangerousKey,
  expectClientError,
  expectPrototypeIntact,
  expectSuccessOrClientError,
  fcOptions,
  hostileJsonValue,
  hostileString,
  hugeJsonBody,
  rawRequest,
  toJsonText,
  JsonObjectText,
} from './harness';

/** What a service's bad-input suite gives the shared checks of its `POST /events` and `GET /events`. */
export interface EventsEndpointSubject {
  server: Server;
  /** The service's state as text: what a refused delivery must leave exactly as it was. */
  snapshot(): string;
  /** The event types the service says it handles. */
  handledTypes: readonly string[];
  /** A valid event of a type the service acts on, new each call (its delivery changes the snapshot). */
  validEvent(): KnownEvent;
}

const postEvents = (server: Server, body: string) =>
  request(server).post('/events').set('Content-Type', 'application/json').send(body);

/** An event as the course's bus sends it: bare `{type, data}`, so no seq moves the service's log position. */
const bare = (event: KnownEvent) => ({ type: event.type, data: event.data });

/**
 * The bad-input checks every service's event receiver must pass: the bus is the only legitimate caller,
 * but a compromised pod or a wrong URL must still get a clear 4xx and change nothing.
 */
export function describeEventsEndpoint(setUp: () => Promise<EventsEndpointSubject>): void {
  describe('GET /events (which event types it handles)', () => {
    it('when asked with a junk query and body, then it answers 200 with its types', async () => {
      const { server, handledTypes } = await setUp();
      const answer = await rawRequest(server, {
        method: 'GET',
        path: '/events?__proto__[polluted]=1&after=%E0%A4%A',
        headers: { 'content-type': 'application/json' },
        body: '{"oops',
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ types: [...handledTypes] });
      expectPrototypeIntact();
    });
  });

  describe('POST /events with bad input', () => {
    it.each(MALFORMED_JSON_BODIES)('when the body is malformed JSON ($name), then it answers 400 and changes nothing', async ({ body }) => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      expectClientError(await postEvents(server, body), { status: 400 });
      expect(snapshot()).toBe(before);
    });

    it.each(WRONG_CONTENT_TYPES)('when the content type is %s, then it answers 415 and changes nothing', async (contentType) => {
      const { server, snapshot, validEvent } = await setUp();
      const before = snapshot();
      const response = await request(server).post('/events').set('Content-Type', contentType).send(JSON.stringify(bare(validEvent())));
      expectClientError(response, { status: 415 });
      expect(snapshot()).toBe(before);
    });

    it('when there is no body and no content type, then it answers 415', async () => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      expectClientError(await rawRequest(server, { method: 'POST', path: '/events' }), { status: 415 });
      expect(snapshot()).toBe(before);
    });

    it('when the JSON body is empty, then it answers 400', async () => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      expectClientError(await rawRequest(server, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json' }, body: '' }), {
        status: 400,
      });
      expect(snapshot()).toBe(before);
    });

    it('when the body is megabytes long, then it answers 413 and changes nothing', async () => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      const answer = await rawRequest(server, {
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'application/json' },
        body: hugeJsonBody('type', HUGE_BODY_BYTES),
      });
      expectClientError(answer, { status: 413 });
      expect(snapshot()).toBe(before);
    });

    it(`when the data nests deeper than ${MAX_JSON_DEPTH} levels, then it answers 400 and changes nothing`, async () => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      expectClientError(await postEvents(server, `{"type": "SomethingNew", "data": ${deep}}`), { status: 400 });
      expect(snapshot()).toBe(before);
    });

    it.each([
      ['half a million numbers', `[${'1,'.repeat(500_000)}1]`],
      ['a thousand wrong events', JSON.stringify(Array.from({ length: 1000 }, (_, index) => ({ type: index, data: null })))],
    ])('when the body is a 1 MiB array of %s, then the 400 lists a few problems and counts the rest', async (_name, body) => {
      const { server, snapshot } = await setUp();
      const before = snapshot();

      const answer = await postEvents(server, body);

      expectClientError(answer, { status: 400 });
      expect(answer.text.length).toBeLessThan(4096);
      expect(answer.body.details.length).toBeLessThanOrEqual(MAX_ERROR_DETAILS + 1);
      expect(snapshot()).toBe(before);
    });

    it('when the batch is empty, then it answers 400', async () => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      expectClientError(await postEvents(server, '[]'), { status: 400 });
      expect(snapshot()).toBe(before);
    });

    it.each([
      ['no type', { data: {} }],
      ['a numeric type', { type: 5, data: {} }],
      ['an empty type', { type: '', data: {} }],
      ['a type over 200 characters', { type: 'T'.repeat(201), data: {} }],
      ['no data', { type: 'SomethingNew' }],
      ['a negative seq', { type: 'SomethingNew', data: {}, seq: -1 }],
      ['a fractional seq', { type: 'SomethingNew', data: {}, seq: 1.5 }],
      ['a string seq', { type: 'SomethingNew', data: {}, seq: '1' }],
      ['a numeric id', { type: 'SomethingNew', data: {}, id: 5 }],
      ['an array item that is not an event', [5]],
      ['null in a batch', [null]],
    ])('when the event has %s, then it answers 400 and changes nothing', async (_name, body) => {
      const { server, snapshot } = await setUp();
      const before = snapshot();
      expectClientError(await postEvents(server, JSON.stringify(body)), { status: 400 });
      expect(snapshot()).toBe(before);
    });

    it('when a known event has data of the wrong shape, then it answers 400 naming the field and changes nothing', async () => {
      const { server, snapshot, validEvent } = await setUp();
      const event = validEvent();
      const before = snapshot();
      for (const data of [null, 'text', [], {}, { ...event.data, id: 42 }, { ...event.data, id: '' }, { ...event.data, id: 'i'.repeat(101) }]) {
        const response = await postEvents(server, JSON.stringify({ type: event.type, data }));
        expectClientError(response, { status: 400 });
        expect(response.body.details.length).toBeGreaterThan(0);
      }
      expect(snapshot()).toBe(before);
    });

    it.each(ILL_FORMED_TEXT)('when a known event has $name in its data, then it answers 400 and changes nothing', async ({ text }) => {
      const { server, snapshot, validEvent } = await setUp();
      const before = snapshot();
      const event = validEvent();
      expectClientError(await postEvents(server, JSON.stringify({ type: event.type, data: { ...event.data, id: text } })), { status: 400 });
      expect(snapshot()).toBe(before);
    });

    it('when one event of a batch is bad, then it answers 400 naming its index and applies none of the batch', async () => {
      const { server, snapshot, validEvent } = await setUp();
      const before = snapshot();
      const good = bare(validEvent());
      const response = await postEvents(server, JSON.stringify([good, { type: good.type, data: { nonsense: true } }, good]));
      expectClientError(response, { status: 400 });
      expect(response.body.details.map((detail: { path: string }) => detail.path)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^1\./)]),
      );
      expect(snapshot()).toBe(before);
    });

    it.each(['SomethingNew', '__proto__', 'constructor', 'hasOwnProperty', 'toString', '\u0000', '💥'])(
      'when the event type is %j, which it does not know, then it answers 200, ignores it and changes nothing',
      async (type) => {
        const { server, snapshot } = await setUp();
        const before = snapshot();
        const response = await postEvents(server, JSON.stringify({ type, data: { anything: [1, 2] } }));
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ received: 1, handled: 0, ignored: 1 });
        expect(snapshot()).toBe(before);
      },
    );

    it('when a valid event carries prototype-polluting keys, then it is applied without them and no prototype is touched', async () => {
      const { server, snapshot, validEvent } = await setUp();
      const event = validEvent();
      const data = JSON.stringify(event.data).slice(0, -1);
      const body = `{"type": ${JSON.stringify(event.type)}, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "data": ${data}, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}}`;

      const response = await postEvents(server, body);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ received: 1, handled: 1, ignored: 0 });
      expectPrototypeIntact();
      expect(snapshot()).not.toContain('polluted');
    });

    it('when a valid event has extra envelope fields, then it is applied and they are ignored', async () => {
      const { server, snapshot, validEvent } = await setUp();
      const before = snapshot();
      const response = await postEvents(server, JSON.stringify({ ...bare(validEvent()), extra: { deep: [1] }, specversion: '0.1' }));
      expect(response.status).toBe(200);
      expect(snapshot()).not.toBe(before);
      expect(snapshot()).not.toContain('extra');
    });
  });

  describe('POST /events with generated input (fast-check)', () => {
    it('when the body is any JSON value, then it answers 200 or a clear 400, and a 400 changes nothing', async () => {
      const { server, snapshot, handledTypes } = await setUp();
      const event = fc.oneof(
        hostileJsonValue(['type', 'data', 'id', 'seq']),
        fc
          .tuple(fc.oneof(fc.constantFrom(...handledTypes), hostileString(12)), hostileJsonValue(['id', 'postId', 'title', 'content', 'status']))
          .map(([type, data]) => new JsonObjectText([['type', type], ['data', data]])),
      );
      const body = fc.oneof(event, fc.array(event, { minLength: 1, maxLength: 4 }));
      await fc.assert(
        fc.asyncProperty(body, async (value) => {
          const before = snapshot();
          const text = toJsonText(value);
          const response = await postEvents(server, text);
          if (expectSuccessOrClientError(response, [200])) {
            expect(response.body.received).toBe(Array.isArray(value) ? value.length : 1);
          } else {
            expect(response.status).toBe(400);
            expect(snapshot()).toBe(before);
          }
          expectPrototypeIntact();
        }),
        fcOptions(80),
      );
    });

    it('when a batch mixes valid events with one that has extra or dangerous keys, then the outcome depends only on validity', async () => {
      const { server, snapshot, validEvent } = await setUp();
      const extraKeys = fc.array(fc.tuple(dangerousKey(['type', 'data']), hostileJsonValue()), { maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(extraKeys, fc.boolean(), async (extras, breakData) => {
          const before = snapshot();
          const event = bare(validEvent());
          // Extra keys never count; a repeated "type" or "data" key replaces the real one (JSON: the last wins).
          const entries: [string, unknown][] = [['type', event.type], ['data', breakData ? { broken: true } : event.data], ...extras];
          const text = new JsonObjectText(entries).toJSONText();
          const parsed = JSON.parse(text) as { type?: unknown; data?: unknown };
          const stillValid =
            !breakData &&
            parsed.type === event.type &&
            JSON.stringify(parsed.data) === JSON.stringify(event.data) &&
            !containsIllFormedText(parsed);

          const response = await postEvents(server, text);

          if (stillValid) {
            expect(response.status).toBe(200);
            expect(response.body.handled).toBe(1);
          } else {
            expectSuccessOrClientError(response, [200]);
            if (response.status === 400) expect(snapshot()).toBe(before);
          }
          expectPrototypeIntact();
        }),
        fcOptions(60),
      );
    });
  });
}
