import express, { type RequestHandler } from 'express';
import { AppError } from './errors';

/** Body limit for the public API: a post or comment is a few KiB at most. */
export const API_BODY_LIMIT = '16kb';
/** Body limit for event deliveries, which may carry a batch of events: 1 MiB. */
export const EVENTS_BODY_LIMIT = 1024 * 1024;

/**
 * Deepest nesting of objects and arrays a JSON body may have. Ours need five levels at most; a body of a
 * few KiB of `[[[[...` is far deeper, and although it parses, JSON.stringify and structured cloning (the
 * bus hands events to its writer thread) overflow the stack on it later, in code that does not expect to
 * fail. So such bodies are refused at the door.
 */
export const MAX_JSON_DEPTH = 64;

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

const requireJsonContentType: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(new AppError(415, 'expected a JSON body with Content-Type: application/json'));
    return;
  }
  next();
};

const refuseUnsafeJson: RequestHandler = (req, _res, next) => {
  const problem = jsonBodyProblem(req.body, MAX_JSON_DEPTH);
  next(problem ? new AppError(400, 'JSON body not accepted', [{ message: problem }]) : undefined);
};

/**
 * Refuses non-JSON bodies with 415, then parses JSON objects and arrays up to `limit`, refusing with 400
 * those nested deeper than MAX_JSON_DEPTH or holding text that is not well-formed Unicode.
 */
export function jsonBody(limit: string | number): RequestHandler[] {
  return [requireJsonContentType, express.json({ limit, strict: true }), refuseUnsafeJson];
}
