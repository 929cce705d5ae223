import { createHash, timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from './errors';

/** What a service needs to know to guard itself; read from BUS_TOKEN (or, on the bus, BUS_CREDENTIALS) and CORS_ORIGINS. */
export interface SecurityOptions {
  /** This service's own secret: it presents it to the bus, and the bus presents it back on deliveries; none means no check. */
  busToken?: string;
  /** On the bus: every caller's name and token (posts, comments, moderation, query, operator, ...); none means no check. */
  credentials?: ReadonlyMap<string, string>;
  /** Browser origins allowed to call this service cross-origin; none by default (the client is same-origin). */
  corsOrigins?: readonly string[];
}

/** The header every internal call carries when a token is configured. */
export function busAuthHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

// Digests have equal length whatever was sent, so timingSafeEqual can compare them without a length leak.
const digest = (text: string) => createHash('sha256').update(text).digest();

/** Answers whether a presented Authorization header carries the bus token; anything passes without one. */
export function busTokenCheck(token: string | undefined): (presented: string | undefined) => boolean {
  if (!token) return () => true;
  const expected = digest(`Bearer ${token}`);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expected);
}

/** The 401 for a request whose Authorization header did not carry a token this side knows. */
export function missingTokenError(presented: string | undefined): AppError {
  return new AppError(401, presented ? 'wrong bus token' : 'this endpoint needs a bus token (Authorization: Bearer ...)');
}

/** helmet's headers, for anything a browser may load. */
export function browserHeaders(): RequestHandler {
  return helmet();
}

/** CORS only for the configured origins; none by default, and then no handler at all. */
export function corsFor({ corsOrigins = [] }: SecurityOptions): RequestHandler | null {
  return corsOrigins.length > 0 ? cors({ origin: [...corsOrigins] }) : null;
}

/** Who made a request, from its credential: a name, or null where no credentials are configured at all. */
export interface Caller {
  name: string | null;
}

/** Answers who presented an Authorization header, or the 401 for it. */
export type CallerCheck = (presented: string | undefined) => Caller | AppError;

/** The one name the bus is known by to a service that checks its own token on deliveries. */
export const BUS_CALLER = 'bus';

/**
 * The caller behind a request: with credentials (the bus), the name whose token was presented; with a
 * token of its own (a service), the bus; with neither, anyone, unnamed.
 */
export function callerCheck({ busToken, credentials }: SecurityOptions): CallerCheck {
  if (credentials && credentials.size > 0) {
    const known = [...credentials].map(([name, token]) => ({ name, expected: digest(`Bearer ${token}`) }));
    return (presented) => {
      if (presented === undefined) return missingTokenError(presented);
      const offered = digest(presented);
      // Every entry is compared, so the time taken does not say which name came close.
      let match: string | null = null;
      for (const { name, expected } of known) if (timingSafeEqual(offered, expected)) match = name;
      return match === null ? missingTokenError(presented) : { name: match };
    };
  }
  const accepted = busTokenCheck(busToken);
  const caller = { name: busToken ? BUS_CALLER : null };
  return (presented) => (accepted(presented) ? caller : missingTokenError(presented));
}

/** Express middleware: lets a request through with a valid credential and leaves its caller in `res.locals.caller`. */
export function requireCaller(check: CallerCheck): RequestHandler {
  return (req, res, next) => {
    const caller = check(req.headers.authorization);
    if (caller instanceof AppError) return next(caller);
    res.locals.caller = caller;
    next();
  };
}

/** The 403 for a caller whose credential does not give the right it asked for. */
export function forbidden(message: string, details: { path?: string; message: string }[] = []): AppError {
  return new AppError(403, message, details);
}
