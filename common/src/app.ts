import express, { type Express, type Router } from 'express';
import { errorHandler, notFoundHandler } from './errors';
import { healthRoutes, type Lifecycle } from './health';
import type { Logger } from './logger';
import { ServiceMetrics } from './metrics';
import { requestLogging } from './requestLog';
import { requireBusToken, securityMiddleware, type SecurityOptions } from './security';

export interface ServiceAppOptions {
  lifecycle: Lifecycle;
  logger: Logger;
  routers: Router[];
  /** Paths only the bus and the services call: they need the bus token when one is configured. */
  busPaths?: string[];
  security?: SecurityOptions;
  /** The service's registry, when it adds metrics of its own; otherwise a new one with the HTTP metrics. */
  metrics?: ServiceMetrics;
}

/** The frame every service shares: health endpoints, its own routes, then JSON 404s and errors. */
export function createServiceApp({ lifecycle, logger, routers, busPaths = [], security = {}, metrics = new ServiceMetrics() }: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // Express would hash every response body for an ETag; API answers are not cached, so skip the work.
  app.set('etag', false);
  app.use(metrics.middleware());
  app.use(requestLogging(logger));
  app.use(...securityMiddleware(security));
  app.use(healthRoutes(lifecycle));
  app.use(metrics.routes());
  if (busPaths.length > 0) app.use(busPaths, requireBusToken(security.busToken));
  for (const router of routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
