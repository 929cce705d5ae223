/**
 * Bad input gets a clear 4xx: the one JSON body reader, schema checks, and the error answers.
 */
import { EngineOutcomeUnknownError, EngineUnavailableError, MAX_ERROR_DETAILS, MAX_JSON_DEPTH } from '@blog/contracts';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import bodyParser from 'body-parser';
import typeis from 'type-is';

export interface ErrorDetail {
  path?: string;
  message: string;
}

/**
 * The first MAX_ERROR_DETAILS problems, then one entry that counts the rest: the answer to a bad body
 * stays a few hundred bytes however many problems the body has.
 */
export function boundedDetails(details: readonly ErrorDetail[]): ErrorDetail[] {
  if (details.length <= MAX_ERROR_DETAILS) return [...details];
  const more = details.length - MAX_ERROR_DETAILS;
  return [...details.slice(0, MAX_ERROR_DETAILS), { message: `and ${more} more problem${more === 1 ? '' : 's'}` }];
}

/** A failure with a known HTTP status; anything else that reaches the error handler is a bug (500). */
export class AppError extends Error {
  readonly details: ErrorDetail[];

  constructor(
    readonly status: number,
    message: string,
    details: readonly ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'AppError';
    this.details = boundedDetails(details);
  }
}

export function detailsFromZod(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
}

/** Parses untrusted input with a schema; failure becomes a 400 that lists every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AppError(400, `invalid ${what}`, detailsFromZod(result.error));
  }
  return result.data;
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no route for ${req.method} ${req.path}`, details: [] });
};

interface BodyParserError {
  type: string;
  status?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string';
}

// body-parser's error types, answered with a message of ours so nothing internal leaks.
const BODY_PARSER_ERRORS: Record<string, { status: number; error: string }> = {
  'entity.parse.failed': { status: 400, error: 'malformed JSON body' },
  'entity.too.large': { status: 413, error: 'request body too large' },
  'entity.verify.failed': { status: 400, error: 'request body rejected' },
  'entity.not.utf8': { status: 400, error: 'the body is not valid UTF-8' },
  'request.aborted': { status: 400, error: 'request aborted' },
  'request.size.invalid': { status: 400, error: 'request size did not match Content-Length' },
  'encoding.unsupported': { status: 415, error: 'unsupported content encoding' },
  'charset.unsupported': { status: 415, error: 'unsupported charset' },
  'stream.encoding.set': { status: 500, error: 'internal error' },
};

/**
 * Other client errors raised inside Express and body-parser carry a 4xx `status` but no body-parser type: a
 * path parameter that is not valid percent-encoding (the router's URIError), a gzip or brotli body that
 * does not inflate (zlib's error). They are the client's fault, so they get their 4xx, with a message of
 * ours: theirs may quote internals.
 */
function clientErrorOf(err: unknown): { status: number; error: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 499) return undefined;
  if (err instanceof URIError) return { status, error: 'malformed percent-encoding in the request path' };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return { status, error: 'request body could not be decompressed' };
  return { status, error: 'bad request' };
}

/** The status and JSON body for an error that is the client's doing (or a known refusal); undefined for a bug. */
export function knownErrorAnswer(err: unknown): { status: number; body: { error: string; details: ErrorDetail[] } } | undefined {
  if (err instanceof AppError) return { status: err.status, body: { error: err.message, details: err.details } };
  // The engine could not store the event (503: try again) or could not say whether it did (504).
  if (err instanceof EngineUnavailableError) return { status: 503, body: { error: err.message, details: [{ message: err.reason }] } };
  if (err instanceof EngineOutcomeUnknownError) return { status: 504, body: { error: err.message, details: [{ message: err.reason }] } };
  if (err instanceof z.ZodError) return { status: 400, body: { error: 'invalid request', details: boundedDetails(detailsFromZod(err)) } };
  const known = isBodyParserError(err) ? BODY_PARSER_ERRORS[err.type] : clientErrorOf(err);
  return known ? { status: known.status, body: { error: known.error, details: [] } } : undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = knownErrorAnswer(err);
    if (known) {
      res.status(known.status).json(known.body);
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
    if (!res.headersSent) {
      res.status(500).json({ error: 'internal error', details: [] });
    }
  };
}

/**
 * Half of a surrogate pair standing alone. JSON lets a client write one (`"\ud800"`), but it is not Unicode
 * text: it has no UTF-8 form, so it cannot be stored or shown faithfully, and hashing it into an event id
 * (uuid v5 encodes through encodeURIComponent) throws. So strings and keys holding one are refused.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What makes a parsed JSON body unacceptable whatever the endpoint (nesting deeper than `maxDepth`, a
 * string or key that is not well-formed Unicode), or undefined. Iterative, so depth cannot overflow it.
 */
export function jsonBodyProblem(value: unknown, maxDepth: number): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (typeof item.value === 'string') {
      if (LONE_SURROGATE.test(item.value)) return 'strings must be well-formed Unicode (a lone surrogate is not)';
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) return `objects and arrays may nest at most ${maxDepth} levels`;
    for (const [key, child] of Object.entries(item.value)) {
      if (LONE_SURROGATE.test(key)) return 'keys must be well-formed Unicode (a lone surrogate is not)';
      stack.push({ value: child, depth });
    }
  }
  return undefined;
}

/**
 * body-parser decodes bytes that are not UTF-8 into U+FFFD without a word, so a client's bad encoding
 * would be stored as text it never wrote. The bytes are checked first (after any gzip is inflated).
 */
function refuseInvalidUtf8(_req: IncomingMessage, _res: ServerResponse, bytes: Buffer): void {
  if (!isUtf8(bytes)) throw Object.assign(new Error('the body is not valid UTF-8'), { status: 400, type: 'entity.not.utf8' });
}

/** Reads one request's JSON body: the parsed value, or a rejection the error answers turn into a 4xx. */
export type JsonBodyReader = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;

/**
 * The one way a body is read, for the public API and the event traffic alike: 415 unless it is
 * `Content-Type: application/json`; body-parser reads it (inflating gzip, deflate or br, 413 past `limitBytes`,
 * 400 when malformed or not an object or array); then 400 for nesting deeper than MAX_JSON_DEPTH or text
 * that is not well-formed Unicode.
 */
export function jsonBodyReader(limitBytes: number): JsonBodyReader {
  const parse = bodyParser.json({ limit: limitBytes, strict: true, type: () => true, verify: refuseInvalidUtf8 });
  return (req, res) =>
    new Promise((resolve, reject) => {
      if (!typeis(req, ['application/json'])) {
        reject(new AppError(415, 'expected a JSON body with Content-Type: application/json'));
        return;
      }
      parse(req, res, (error?: unknown) => {
        if (error) return reject(error);
        const body = (req as IncomingMessage & { body?: unknown }).body;
        const problem = jsonBodyProblem(body, MAX_JSON_DEPTH);
        if (problem) reject(new AppError(400, 'JSON body not accepted', [{ message: problem }]));
        else resolve(body);
      });
    });
}

/** The same reader as Express middleware: `req.body` is the checked JSON value. */
export function jsonBody(limitBytes: number): RequestHandler {
  const read = jsonBodyReader(limitBytes);
  return (req, res, next) => {
    read(req, res).then((body) => {
      req.body = body;
      next();
    }, next);
  };
}
