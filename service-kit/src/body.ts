import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import bodyParser from 'body-parser';
import { MAX_JSON_DEPTH } from '@blog/contracts';
import type { RequestHandler } from 'express';
import typeis from 'type-is';
import { AppError } from './errors';

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
