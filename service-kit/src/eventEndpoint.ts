import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { jsonBodyReader } from './errors';
import { knownErrorAnswer } from './errors';
import type { Logger } from './logger';
import type { ServiceMetrics } from './operations';
import { AppError } from './errors';
import { callerCheck, type Caller, type SecurityOptions } from './security';

/** What an event endpoint answers: a status and a JSON body. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** The work behind an event endpoint, given the checked JSON body. */
export type JsonPostHandler = (body: unknown, headers: IncomingHttpHeaders, caller: Caller) => Promise<JsonAnswer>;

/** `POST <path>` with a JSON body: the bus's publish endpoint, or a service's delivery endpoint. */
export interface EventEndpoint {
  path: string;
  /** Largest body accepted, in bytes; a bigger one is answered 413. */
  limitBytes: number;
  handle: JsonPostHandler;
}

export interface EventEndpointOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  security?: SecurityOptions;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function pathOf(url = ''): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The event traffic between the bus and the services (publishes to the bus, deliveries to a service) is
 * most of the requests each of them answers, all from our own processes. Every `POST <path>` is served
 * here, in front of Express: measured on the 2-core machine, Express's request set-up and routing cost a
 * small POST about as much again as the work itself, and a comment crosses six such requests on its way
 * to the view. The body is read as the API's is (see jsonBodyReader), errors are answered as the API's
 * are (knownErrorAnswer), and the requests count in the same HTTP metrics. Everything else goes to `app`.
 */
export function withEventEndpoint(app: RequestListener, endpoint: EventEndpoint, options: EventEndpointOptions): RequestListener {
  const identify = callerCheck(options.security ?? {});
  const readBody = jsonBodyReader(endpoint.limitBytes);
  const labels = { method: 'POST', route: endpoint.path };
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const caller = identify(req.headers.authorization);
      if (caller instanceof AppError) throw caller;
      const result = await endpoint.handle(await readBody(req, res), req.headers, caller);
      answer(res, result.status, result.body);
    } catch (error) {
      const known = knownErrorAnswer(error);
      if (!known) options.logger.error({ err: error, method: req.method, path: endpoint.path }, 'unhandled error');
      if (res.headersSent) return;
      if (known) answer(res, known.status, known.body);
      else answer(res, 500, { error: 'internal error', details: [] });
    }
  };
  return (req, res) => {
    if (req.method !== 'POST' || pathOf(req.url) !== endpoint.path) {
      app(req, res);
      return;
    }
    const started = performance.now();
    res.once('finish', () => options.metrics.recordRequest({ ...labels, status: String(res.statusCode) }, (performance.now() - started) / 1000));
    void serve(req, res);
  };
}
