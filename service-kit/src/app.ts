import express, { type Router } from 'express';
import type { RequestListener } from 'node:http';
import { errorHandler, notFoundHandler } from './errors';
import { withEventEndpoint, type EventEndpoint } from './eventEndpoint';
import { healthRoutes, ServiceMetrics, requestLogging, type Lifecycle } from './operations';
import type { Logger } from './logger';
import { browserHeaders, callerCheck, corsFor, requireCaller, type SecurityOptions } from './guards';

export interface ServiceAppOptions {
  lifecycle: Lifecycle;
  logger: Logger;
  routers?: Router[];
  /**
   * The event traffic between the bus and the services (publishes to the bus, deliveries to a service),
   * served in front of Express (see withEventEndpoint): no per-request log line (each handled event logs
   * its own) and no browser-facing headers, which neither the bus nor a service reads.
   */
  events?: EventEndpoint;
  /** Other routes only the bus and the services call (a service's `GET /events`), ahead of the request log. */
  busRouters?: Router[];
  /** Paths only the bus and the services call: they need the bus token when one is configured. */
  busPaths?: string[];
  security?: SecurityOptions;
  /** The service's registry, when it adds metrics of its own; otherwise a new one with the HTTP metrics. */
  metrics?: ServiceMetrics;
}

/** The frame every service shares: health endpoints, its own routes, then JSON 404s and errors. */
export function createServiceApp({
  lifecycle,
  logger,
  routers = [],
  events,
  busRouters = [],
  busPaths = [],
  security = {},
  metrics = new ServiceMetrics(),
}: ServiceAppOptions): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // Express would hash every response body for an ETag; API answers are not cached, so skip the work.
  app.set('etag', false);
  app.use(metrics.middleware());
  const allowCrossOrigin = corsFor(security);
  if (allowCrossOrigin) app.use(allowCrossOrigin);
  if (busPaths.length > 0) app.use(busPaths, requireCaller(callerCheck(security)));
  for (const router of busRouters) app.use(router);
  app.use(requestLogging(logger));
  app.use(browserHeaders());
  app.use(healthRoutes(lifecycle));
  app.use(metrics.routes());
  for (const router of routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return events ? withEventEndpoint(app, events, { logger, metrics, security }) : app;
}
