import { createHash, timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from './errors';

/** What a service needs to know to guard itself; read from BUS_TOKEN and CORS_ORIGINS. */
export interface SecurityOptions {
  /** The shared secret the bus and the services present to each other; none means no check. */
  busToken?: string;
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

/** The 401 for a request whose Authorization header did not carry the bus token. */
export function missingTokenError(presented: string | undefined): AppError {
  return new AppError(401, presented ? 'wrong bus token' : 'this endpoint needs the bus token (Authorization: Bearer ...)');
}

/** Lets a request through only with the bus token; without a configured token it checks nothing. */
export function requireBusToken(token: string | undefined): RequestHandler {
  const accepted = busTokenCheck(token);
  return (req, _res, next) => {
    const presented = req.headers.authorization;
    next(accepted(presented) ? undefined : missingTokenError(presented));
  };
}

/** helmet's headers, for anything a browser may load. */
export function browserHeaders(): RequestHandler {
  return helmet();
}

/** CORS only for the configured origins; none by default, and then no handler at all. */
export function corsFor({ corsOrigins = [] }: SecurityOptions): RequestHandler | null {
  return corsOrigins.length > 0 ? cors({ origin: [...corsOrigins] }) : null;
}
