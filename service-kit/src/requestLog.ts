import { randomUUID } from 'node:crypto';
import { REQUEST_ID_PATTERN } from '@blog/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from './logger';

/** Probes and scrapes every few seconds would drown the log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** One log line per request (method, route, status, time, request id), and `X-Request-Id` on every answer. */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    // A caller's X-Request-Id is kept when it looks like an id; anything else gets a fresh one.
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url?.split('?')[0] ?? '') },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    // The full request and response objects are noise; these are what an operator reads.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  }) as unknown as RequestHandler;
}

/** The id given to this request by requestLogging, if it ran. */
export function requestIdOf(req: Request): string | undefined {
  const id = (req as unknown as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/** The request's own logger (it carries the request id), or `fallback`. */
export function requestLogger(req: Request, fallback: Logger): Logger {
  return (req as unknown as { log?: Logger }).log ?? fallback;
}
