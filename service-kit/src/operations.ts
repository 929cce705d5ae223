/**
 * What an operator sees of a service: `/healthz` and `/readyz`, Prometheus metrics on `/metrics`, and
 * one log line per request.
 */
import { type EngineProblem, REQUEST_ID_PATTERN } from '@blog/contracts';
import { Router, type RequestHandler, type Request } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from './logger';

/** Why a process that is alive must not be sent traffic, as `/readyz` reports it. */
export type ReadinessProblem = EngineProblem;

/**
 * Liveness and readiness of one process. Alive means the process answers; ready means it has caught up
 * with the event log and is not shutting down.
 */
export class Lifecycle {
  private caughtUp = false;
  private draining = false;
  private trouble: ReadinessProblem | null = null;
  private readonly problemSources: (() => ReadinessProblem | null)[] = [];
  private readonly remarkSources: (() => Record<string, unknown> | null)[] = [];
  private readonly drainListeners = new Set<() => void>();

  markReady(): void {
    this.caughtUp = true;
  }

  markDraining(): void {
    if (this.draining) return;
    this.draining = true;
    for (const listener of this.drainListeners) listener();
  }

  /** Long-lived responses (event streams) end themselves here, so a shutdown is not held open by them. */
  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Not ready, whatever else holds, until `clearProblem`: the process stays up to say why. */
  markProblem(problem: ReadinessProblem): void {
    this.trouble = problem;
  }

  clearProblem(): void {
    this.trouble = null;
  }

  /** A part that can find the process unfit on its own (the event engine, its log damaged), asked each time. */
  watchProblems(source: () => ReadinessProblem | null): void {
    this.problemSources.push(source);
  }

  /** Something `/readyz` should say even while ready (the engine out of reach, the view delayed). */
  watchRemarks(source: () => Record<string, unknown> | null): void {
    this.remarkSources.push(source);
  }

  get remarks(): Record<string, unknown> {
    return Object.assign({}, ...this.remarkSources.map((source) => source() ?? {}));
  }

  get problem(): ReadinessProblem | null {
    if (this.trouble) return this.trouble;
    for (const source of this.problemSources) {
      const found = source();
      if (found) return found;
    }
    return null;
  }

  get isReady(): boolean {
    return this.caughtUp && !this.draining && this.problem === null;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Whether the service has caught up with the log once (it stays so while it shuts down). */
  get hasCaughtUp(): boolean {
    return this.caughtUp;
  }
}

/**
 * Until a service that rebuilds its state from the log has caught up, its reads answer 503 with
 * Retry-After, never a 200 of a partial view: `{}` from query a second after a restart would read as
 * "the blog is empty".
 */
export function readsAfterCatchUp(lifecycle: Lifecycle, name: string): RequestHandler {
  return (req, res, next) => {
    if (lifecycle.hasCaughtUp || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.setHeader('retry-after', '1');
    res.status(503).json({ error: `${name} is still reading the event log; its answer would be incomplete, try again in a moment`, details: [] });
  };
}

export function healthRoutes(lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (lifecycle.isReady) {
      res.json({ status: 'ready', ...lifecycle.remarks });
      return;
    }
    if (lifecycle.problem && !lifecycle.isDraining) {
      res.status(503).json(lifecycle.problem);
      return;
    }
    res.status(503).json({ status: lifecycle.isDraining ? 'shutting down' : 'starting' });
  });
  return router;
}

/** Seconds; from a sub-millisecond loopback call to a slow publish waiting on the disk. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * One Prometheus registry per service: the process's default metrics, HTTP requests by route and
 * status, and whatever the service adds (the bus adds its log and delivery metrics).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  histogram<L extends string>(name: string, help: string, labelNames: L[] = [], buckets = LATENCY_BUCKETS): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** Counts one answered request that took `seconds`, under the same series as the middleware's. */
  recordRequest(labels: { method: string; route: string; status: string }, seconds: number): void {
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  /** Counts and times every request; the route is the matched pattern (`/posts/:id/comments`), never the raw path. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const end = this.duration.startTimer();
      res.once('finish', () => {
        // Unmatched paths share one label, so probing random URLs cannot grow the series without bound.
        const pattern = req.route?.path as string | string[] | undefined;
        const route = pattern === undefined ? 'unmatched' : `${req.baseUrl}${[pattern].flat().join('|')}`;
        const labels = { method: req.method, route, status: String(res.statusCode) };
        this.requests.inc(labels);
        end(labels);
      });
      next();
    };
  }

  routes(): Router {
    const router = Router();
    router.get('/metrics', async (_req, res) => {
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
    return router;
  }
}

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
