import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Router } from 'express';
import getRawBody from 'raw-body';
import { knownErrorAnswer } from './errors';
import { jsonBody, jsonBodyProblem, MAX_JSON_DEPTH } from './http';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';
import { busTokenCheck } from './security';

/** What an event endpoint answers: a status and a JSON body. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** The work behind an event endpoint, given the parsed body; the same for the lane and the Express route. */
export type JsonPostHandler = (body: unknown, headers: IncomingHttpHeaders) => Promise<JsonAnswer>;

/** A service's event endpoint: `POST <path>` with a JSON body, handled by `handle`. */
export interface EventEndpoint {
  path: string;
  /** Largest body accepted, in bytes; a bigger one is answered 413. */
  limitBytes: number;
  handle: JsonPostHandler;
  /** Other routes beside it (a service's `GET /events`), mounted with it ahead of the request log. */
  router?: Router;
}

export interface EventLaneOptions extends EventEndpoint {
  logger: Logger;
  metrics: ServiceMetrics;
  busToken?: string;
}

/** The endpoint as an Express route, for the requests the lane leaves to the full app. */
export function eventEndpointRoute({ path, limitBytes, handle, router = Router() }: EventEndpoint): Router {
  router.post(path, ...jsonBody(limitBytes), async (req, res) => {
    const result = await handle(req.body, req.headers);
    res.status(result.status).json(result.body);
  });
  return router;
}

const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/**
 * Whether the lane can take the request: a POST to its path with a plain JSON body of a declared length
 * within the limit and the right token. Anything else (another route, a wrong or missing type, chunked or
 * compressed bodies, no or a wrong token) goes to the full Express app, which answers it as before.
 */
function isPlainEventPost(req: IncomingMessage, options: EventLaneOptions, tokenAccepted: (presented: string | undefined) => boolean): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const query = url.indexOf('?');
  if ((query === -1 ? url : url.slice(0, query)) !== options.path) return false;
  const type = req.headers['content-type'];
  if (type === undefined || !PLAIN_JSON.has(type.toLowerCase())) return false;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const length = Number(req.headers['content-length']);
  if (!Number.isInteger(length) || length > options.limitBytes) return false;
  return tokenAccepted(req.headers.authorization);
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The event traffic between the bus and the services (publishes to the bus, deliveries to a service) is
 * most of the requests each of them answers, and it comes only from our own processes. Measured on the
 * 2-core machine, Express with its JSON parser costs a small POST ~400 us of server CPU against ~100 us
 * for Node's HTTP server alone, and a comment crosses six such requests on its way to the view. So the
 * plain, well-formed case skips Express; it gets the same checks (token, JSON depth and Unicode, the
 * handler's schema), the same answers and errors, and is counted in the same HTTP metrics.
 */
export function withEventLane(app: RequestListener, options: EventLaneOptions): RequestListener {
  const tokenAccepted = busTokenCheck(options.busToken);
  const route = { method: 'POST', route: options.path };
  return (req, res) => {
    if (!isPlainEventPost(req, options, tokenAccepted)) {
      app(req, res);
      return;
    }
    const started = performance.now();
    res.once('finish', () => options.metrics.recordRequest({ ...route, status: String(res.statusCode) }, (performance.now() - started) / 1000));
    void serveEventPost(req, res, options);
  };
}

async function serveEventPost(req: IncomingMessage, res: ServerResponse, options: EventLaneOptions): Promise<void> {
  let text: string;
  try {
    text = await getRawBody(req, { length: req.headers['content-length'], limit: options.limitBytes, encoding: 'utf-8' });
  } catch {
    // The client went away or sent fewer bytes than it declared: there is no one to answer properly.
    if (!res.headersSent) answer(res, 400, { error: 'request body incomplete', details: [] });
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    answer(res, 400, { error: 'malformed JSON body', details: [] });
    return;
  }
  // express.json is strict: only objects and arrays are JSON bodies.
  if (typeof body !== 'object' || body === null) {
    answer(res, 400, { error: 'malformed JSON body', details: [] });
    return;
  }
  const problem = jsonBodyProblem(body, MAX_JSON_DEPTH);
  if (problem) {
    answer(res, 400, { error: 'JSON body not accepted', details: [{ message: problem }] });
    return;
  }
  try {
    const result = await options.handle(body, req.headers);
    answer(res, result.status, result.body);
  } catch (error) {
    const known = knownErrorAnswer(error);
    if (known) {
      answer(res, known.status, known.body);
      return;
    }
    options.logger.error({ err: error, method: req.method, path: options.path }, 'unhandled error');
    if (!res.headersSent) answer(res, 500, { error: 'internal error', details: [] });
  }
}
