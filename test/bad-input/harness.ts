import http, { type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { createBus, type Bus } from '../../event-bus/src/bus';
import { configSchema } from '../../event-bus/src/config';
import { silentLogger } from '../support/silentLogger';
import { makeTempDir } from '../support/tempDirs';

/**
 * Shared pieces of the bad-input suites: a listening server per app (one socket per request instead of a
 * new server per supertest call, which matters for hundreds of property runs and concurrent storms), a
 * raw HTTP client for what supertest would rewrite (bytes that are not UTF-8, compressed bodies, paths it
 * would normalise), the checks every answer must pass, and the generators of hostile input.
 */

// ---------------------------------------------------------------------------------------------------------
// Servers and requests

export interface Listening {
  server: Server;
  close(): Promise<void>;
}

/** Listens on a loopback port; `request(server)` then reuses it rather than starting a server per call. */
export async function listen(app: RequestListener): Promise<Listening> {
  const server: Server = await new Promise((resolve) => {
    const started = http.createServer(app).listen(0, '127.0.0.1', () => resolve(started));
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ListeningBus {
  bus: Bus;
  listening: Listening;
}

/** A real embedded bus (its SQLite log in a new temporary folder, no subscribers), ready and listening. */
export async function listeningBus(tempPrefix: string, env: NodeJS.ProcessEnv = {}): Promise<ListeningBus> {
  const bus = createBus(configSchema.parse({ DATA_DIR: makeTempDir(tempPrefix), SUBSCRIBERS: 'none', ...env }), silentLogger);
  bus.lifecycle.markReady();
  bus.hub.start();
  return { bus, listening: await listen(bus.app) };
}

export async function closeListeningBus({ bus, listening }: ListeningBus): Promise<void> {
  await listening.close();
  await bus.close();
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request with exactly these bytes and this path, not re-encoded or normalised by a client library. */
export function rawRequest(
  server: Server,
  { method, path, headers = {}, body }: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<RawAnswer> {
  const { port } = server.address() as AddressInfo;
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...(payload ? { 'content-length': String(payload.length) } : {}), ...headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The whole state of an in-memory store as text, its Maps and Sets included (JSON.stringify alone shows
 * them as `{}`), so a refused request that changed anything, even a part no endpoint shows, is caught.
 */
export function stateOf(store: object): string {
  return JSON.stringify(store, (_key, value: unknown) =>
    value instanceof Map ? { map: [...value] } : value instanceof Set ? { set: [...value].filter((item) => typeof item !== 'function') } : value,
  );
}

/** Runs `count` requests at once, as many clients would. */
export function concurrently<T>(count: number, makeRequest: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => makeRequest(index)));
}

// ---------------------------------------------------------------------------------------------------------
// What every answer must be

type Answer = Pick<Response, 'status' | 'text' | 'headers'> | RawAnswer;

/**
 * No stack frame, internal path or source location in what a client reads. `echoed` are inputs the
 * answer may legitimately quote back (an unknown post id): they are cut out first, so a generated id that
 * happens to contain "node_modules" is not mistaken for a leak.
 */
export function expectNoInternals(text: string, echoed: readonly string[] = []): void {
  let scrubbed = text;
  for (const input of echoed) {
    if (input.length === 0) continue;
    // JSON answers carry the input escaped as JSON.stringify escapes it (Express does no extra escaping).
    scrubbed = scrubbed.split(JSON.stringify(input).slice(1, -1)).join('').split(input).join('');
  }
  expect(scrubbed).not.toMatch(/\bat [^\n]*\(?[^\s()]+:\d+:\d+\)?/);
  expect(scrubbed).not.toMatch(/\n\s+at /);
  expect(scrubbed).not.toContain('/work/');
  expect(scrubbed).not.toContain('node_modules');
  expect(scrubbed).not.toContain('.ts:');
  expect(scrubbed).not.toMatch(/\b(?:TypeError|RangeError|SyntaxError|ReferenceError|URIError)\b/);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A clear client error: a 4xx (exactly `status` when given) whose JSON body says what was wrong. */
export function expectClientError(answer: Answer, { status, echoed = [] }: { status?: number; echoed?: readonly string[] } = {}): void {
  const context = `answer ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (status !== undefined) expect({ status: answer.status, context }).toEqual({ status, context });
  expect({ clientError: answer.status >= 400 && answer.status < 500, context }).toEqual({ clientError: true, context });
  expect(String(answer.headers['content-type'])).toMatch(/^application\/json/);
  const body = parseJson(answer.text) as { error?: unknown; details?: unknown } | undefined;
  expect(typeof body?.error).toBe('string');
  expect((body!.error as string).length).toBeGreaterThan(0);
  if (body!.details !== undefined) expect(Array.isArray(body!.details)).toBe(true);
  expectNoInternals(answer.text, echoed);
}

/**
 * Either the documented success (one of `successes`) or a clear client error; never a 5xx. Returns
 * whether it was a success, so the caller can check what the success changed.
 */
export function expectSuccessOrClientError(
  answer: Answer,
  successes: readonly number[],
  { echoed = [] }: { echoed?: readonly string[] } = {},
): boolean {
  // A success body is the stored entity, which quotes the input; only error bodies are checked for leaks.
  if (successes.includes(answer.status)) return true;
  expectClientError(answer, { echoed });
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Prototype pollution

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

/** Nothing was added to Object.prototype: a plain new object has no `polluted`, and no key appeared. */
export function expectPrototypeIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
}

/** Whether `polluted` appears anywhere in a stored value, as an own key or inherited. */
export function containsPollutedKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<string, unknown>).polluted !== undefined) return true;
  return Object.values(value).some(containsPollutedKey);
}

/**
 * JSON texts of objects that carry `field: goodValue` plus the classic pollution payloads. Written as text
 * because a JS object literal with `__proto__` sets the prototype instead of making a key.
 */
export function pollutionBodies(field: string, goodValue: string): { name: string; body: string }[] {
  const good = `${JSON.stringify(field)}: ${JSON.stringify(goodValue)}`;
  return [
    { name: '__proto__ with a polluted key', body: `{${good}, "__proto__": {"polluted": true}}` },
    { name: '__proto__ before the field', body: `{"__proto__": {"polluted": true}, ${good}}` },
    { name: 'constructor.prototype', body: `{${good}, "constructor": {"prototype": {"polluted": true}}}` },
    { name: 'prototype at the top', body: `{${good}, "prototype": {"polluted": true}}` },
    { name: 'a nested __proto__', body: `{${good}, "extra": {"__proto__": {"polluted": true}}}` },
    { name: '__proto__ holding the field', body: `{${good}, "__proto__": {${good}, "polluted": true}}` },
    { name: 'toString replaced', body: `{${good}, "toString": "not a function", "hasOwnProperty": 1, "valueOf": null}` },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Hand-written hostile input

/** Bodies that are not JSON at all, or not the JSON they claim, each sent as application/json. */
export const MALFORMED_JSON_BODIES: readonly { name: string; body: string }[] = [
  { name: 'an unterminated object', body: '{' },
  { name: 'a missing value', body: '{"a": }' },
  { name: 'single quotes', body: "{'a': 'b'}" },
  { name: 'a trailing comma', body: '{"a": "b",}' },
  { name: 'a comment', body: '{"a": "b" /* hi */}' },
  { name: 'NaN', body: 'NaN' },
  { name: 'undefined', body: 'undefined' },
  { name: 'a bare number', body: '42' },
  { name: 'a bare null', body: 'null' },
  { name: 'true', body: 'true' },
  { name: 'two objects', body: '{}{}' },
  { name: 'an unterminated string', body: '{"a": "b' },
  { name: 'a NUL byte', body: '\u0000' },
  { name: 'form encoding', body: 'a=b&c=d' },
  { name: 'XML', body: '<a>b</a>' },
  { name: 'a bad escape', body: '{"a": "\\x41"}' },
  { name: 'deep unbalanced brackets', body: '['.repeat(5000) },
];

/** Content types that are not JSON (or not JSON in UTF-8); each must get 415 whatever the body. */
export const WRONG_CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/html',
  'application/octet-stream',
  'application/json-patch+json',
  'application/json; charset=latin1',
  'application/json; charset=windows-1252',
];

/** Titles and comments with characters that often break things; every one is valid text to store as it is. */
export const UNUSUAL_TEXT: readonly { name: string; text: string }[] = [
  { name: 'emoji and a ZWJ sequence', text: 'hello 👩‍👩‍👧 🎉' },
  { name: 'right-to-left text and an override', text: 'שלום \u202eevil\u202c مرحبا' },
  { name: 'combining marks', text: 'Z̴̧a̸l̷g̶o̵' },
  { name: 'a NUL and other control characters', text: 'a\u0000b\u0007c\u001bd' },
  { name: 'line and paragraph separators', text: 'one\u2028two\u2029three' },
  { name: 'HTML and script', text: '<script>alert(1)</script>' },
  { name: 'JSON-looking text', text: '{"__proto__": {"polluted": true}}' },
  { name: 'CJK', text: '漢字かなカナ한국어' },
  { name: 'a byte-order mark inside', text: 'bo\ufeffm' },
];

/** Text with half a surrogate pair: valid JSON, but not Unicode; every endpoint refuses it with 400. */
export const ILL_FORMED_TEXT: readonly { name: string; text: string }[] = [
  { name: 'a lone high surrogate', text: 'half \ud800 pair' },
  { name: 'a lone low surrogate at the start', text: '\udc00 first' },
  { name: 'a reversed pair', text: '\udc00\ud800' },
];

/** Whether any string or key inside a parsed JSON value is not well-formed UTF-16. */
/**
 * Whether `value` is an id the contracts accept, written out character by character: 1 to `maxLength`
 * ASCII letters, digits, `-` and `_`, the first a letter or digit.
 */
export function isEntityId(value: unknown, maxLength: number): boolean {
  if (typeof value !== 'string' || value.length < 1 || value.length > maxLength) return false;
  const isAlphanumeric = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return [...value].every((c, index) => isAlphanumeric(c) || (index > 0 && (c === '-' || c === '_')));
}

/** Ids the contracts accept, near the length limit too, for generators that must reach both outcomes. */
export function validEntityId(maxLength: number) {
  return fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/), fc.stringMatching(new RegExp(`^[a-z0-9]{${maxLength - 2},${maxLength + 2}}$`)));
}

export function containsIllFormedText(value: unknown): boolean {
  if (typeof value === 'string') return !isWellFormed(value);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, child]) => !isWellFormed(key) || containsIllFormedText(child));
}

/**
 * Path ids with characters that could confuse routing, decoding or lookups, as they go on the wire, with
 * what a route with an `:id` parameter must answer when no such post exists: 400 when the id is not valid
 * percent-encoding (it names nothing), 404 otherwise.
 */
export const ODD_PATH_IDS: readonly { name: string; raw: string; status: 400 | 404 }[] = [
  { name: 'malformed percent-encoding', raw: '%E0%A4%A', status: 400 },
  { name: 'a lone percent sign', raw: '%', status: 400 },
  { name: 'percent and non-hex', raw: '%zz', status: 400 },
  { name: 'an encoded lone surrogate (CESU-8)', raw: '%ED%A0%80', status: 400 },
  { name: 'an encoded NUL', raw: '%00', status: 404 },
  { name: 'an encoded slash', raw: '%2F', status: 404 },
  { name: 'encoded dots', raw: '%2e%2e', status: 404 },
  { name: 'a traversal', raw: '..%2F..%2Fetc%2Fpasswd', status: 404 },
  { name: '__proto__', raw: '__proto__', status: 404 },
  { name: 'constructor', raw: 'constructor', status: 404 },
  { name: 'prototype', raw: 'prototype', status: 404 },
  { name: 'hasOwnProperty', raw: 'hasOwnProperty', status: 404 },
  { name: 'an emoji', raw: '%F0%9F%92%A5', status: 404 },
  { name: 'spaces', raw: '%20%20', status: 404 },
  { name: 'a CRLF', raw: '%0D%0A', status: 404 },
  { name: 'an id over the length limit', raw: 'p'.repeat(101), status: 404 },
  { name: 'a very long id', raw: 'p'.repeat(8000), status: 404 },
  { name: 'a query-looking id', raw: '%3Fafter%3D0', status: 404 },
];

/** The id a raw path segment names, or the raw text when it is not valid percent-encoding. */
export function decodedOrRaw(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * A body well over every limit (1 MiB for events): it must get 413 without the service buffering it.
 * Sent raw with its Content-Length so the answer arrives before or as the body does.
 */
export const HUGE_BODY_BYTES = 3 * 1024 * 1024;

/** A JSON object with `field` of exactly the given length, padded to be `bytes` long. */
export function hugeJsonBody(field: string, bytes: number): string {
  const head = `{${JSON.stringify(field)}: "`;
  return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
}

// ---------------------------------------------------------------------------------------------------------
// fast-check

/**
 * Properties run from a fixed seed so the suite is deterministic; FC_SEED replays another (every failure
 * report prints its seed and path), FC_RUNS scales the runs up for a longer hunt.
 */
export const FC_SEED = Number(process.env.FC_SEED ?? 20_260_505);
export function fcOptions<T>(numRuns: number): fc.Parameters<T> {
  const scaled = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : numRuns;
  return { numRuns: scaled, seed: FC_SEED, endOnFailure: true };
}

/** Keys worth putting in generated objects: the ones that attack prototypes and the ones handlers read. */
export function dangerousKey(fields: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', ...fields),
    fc.string({ maxLength: 8 }),
  );
}

const BINARY_CHARACTER = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
// fast-check's own 'grapheme' unit builds Unicode tables on first use (seconds per test file); these few
// graphemes made of several code points are what it would add to 'binary' for our purposes.
const MULTI_CODE_POINT_GRAPHEME = fc.constantFrom('👩‍👩‍👧', '🇫🇷', 'é', 'ग्', '\u202eabc\u202c', '👍🏽');

/** Strings of every kind: printable ASCII, control characters, any code point, lone surrogates, sizes. */
export function hostileString(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.oneof(BINARY_CHARACTER, MULTI_CODE_POINT_GRAPHEME), maxLength }),
    fc.constantFrom('', ' ', '\t\n', '\u00a0\u3000', '\ud800', '\udc00x', '\u0000', '__proto__', 'constructor', 'orange', 'ORANGE!'),
  );
}

/** Whether a string is well-formed UTF-16 (no lone surrogate), so it can be percent-encoded in a URL. */
export function isWellFormed(text: string): boolean {
  return !/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
}

/** Any JSON value, with unicode strings and odd keys in its objects. */
export function hostileJsonValue(fields: readonly string[] = []): fc.Arbitrary<unknown> {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'hostile-json' },
      fc.constant(null),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      hostileString(20),
      fc.array(tie('value'), { maxLength: 4, depthIdentifier: 'hostile-json' }),
      tie('object'),
    ),
    object: fc
      .array(fc.tuple(dangerousKey(fields), tie('value')), { maxLength: 5, depthIdentifier: 'hostile-json' })
      .map((entries) => new JsonObjectText(entries)),
  }));
  return value;
}

/**
 * An object kept as its entries, so a `__proto__` entry is serialised as a key (JSON.stringify of an object
 * literal cannot do that) and repeated keys stay repeated, as a hostile client could send them.
 */
export class JsonObjectText {
  constructor(readonly entries: [string, unknown][]) {}

  toJSONText(): string {
    return `{${this.entries.map(([key, value]) => `${JSON.stringify(key)}:${toJsonText(value)}`).join(',')}}`;
  }
}

/** The JSON text of a generated value, keeping every key of generated objects as it was generated. */
export function toJsonText(value: unknown): string {
  if (value instanceof JsonObjectText) return value.toJSONText();
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  return JSON.stringify(value);
}

/** An object body whose known fields take hostile values, plus dangerous extra keys; given as JSON text. */
export function hostileObjectText(fieldValues: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const fields = Object.keys(fieldValues);
  const knownEntries = fc.tuple(
    ...fields.map((field) => fc.option(fieldValues[field]!.map((value) => [field, value] as [string, unknown]), { nil: undefined })),
  );
  const extraEntries = fc.array(fc.tuple(dangerousKey(fields), hostileJsonValue(fields)), { maxLength: 4 });
  return fc
    .tuple(knownEntries, extraEntries, fc.boolean())
    .map(([known, extra, extraFirst]) => {
      const present = known.filter((entry): entry is [string, unknown] => entry !== undefined);
      return new JsonObjectText(extraFirst ? [...extra, ...present] : [...present, ...extra]).toJSONText();
    });
}

/**
 * What a create endpoint must store from the body text: `field` trimmed, when the body is an object
 * whose field is a string of 1 to `maxLength` characters after trimming with at least one character that
 * is not a separator, control, format, mark or unassigned code point (and all its text well formed);
 * otherwise undefined, and the endpoint must refuse it with 400.
 */
export function acceptedText(bodyText: string, field: string, maxLength: number): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || containsIllFormedText(parsed)) return undefined;
  const value = (parsed as Record<string, unknown>)[field];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const visible = /[^\p{Z}\p{C}\p{M}]/u.test(trimmed);
  return visible && trimmed.length >= 1 && trimmed.length <= maxLength ? trimmed : undefined;
}
