import express, { type Router } from 'express';
import type { RequestListener } from 'node:http';
import { errorHandler, notFoundHandler } from './errors';
import { eventEndpointRoute, withEventLane, type EventEndpoint } from './eventLane';
import { healthRoutes, type Lifecycle } from './health';
import type { Logger } from './logger';
import { ServiceMetrics } from './metrics';
import { requestLogging } from './requestLog';
import { browserHeaders, corsFor, requireBusToken, type SecurityOptions } from './security';

export interface ServiceAppOptions {
  lifecycle: Lifecycle;
  logger: Logger;
  routers?: Router[];
  /**
   * The event traffic between the bus and the services (publishes to the bus, deliveries to a service):
   * most requests a service answers, all from our own processes. Plain well-formed ones take the event
   * lane (see withEventLane); the rest reach the same handler through Express, ahead of the per-request
   * log line and the browser-facing headers, which neither the bus nor a service reads (each handled
   * event logs its own line instead).
   */
  events?: EventEndpoint;
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
  if (busPaths.length > 0) app.use(busPaths, requireBusToken(security.busToken));
  // Measured on the 2-core machine: the request log and helmet took ~250 of the ~700 us of CPU a small
  // POST cost the server, and a comment makes six such internal requests on its way to the view.
  if (events) app.use(eventEndpointRoute(events));
  app.use(requestLogging(logger));
  app.use(browserHeaders());
  app.use(healthRoutes(lifecycle));
  app.use(metrics.routes());
  for (const router of routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return events ? withEventLane(app, { ...events, logger, metrics, busToken: security.busToken }) : app;
}
