import type { RequestHandler } from 'express';
import { Router } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
