import { createServiceApp, type Lifecycle, type Logger, type SecurityOptions, type ServiceMetrics } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { publishEndpoint, readRoutes } from './routes/eventRoutes';
import { deadLetterRoutes } from './routes/deadLetterRoutes';
import type { BusBackend, PublishMeter } from './views';

export interface BusDeps {
  backend: BusBackend;
  lifecycle: Lifecycle;
  logger: Logger;
  security?: SecurityOptions;
  metrics?: { service: ServiceMetrics; bus?: PublishMeter };
}

export function createApp(deps: BusDeps): RequestListener {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    security: deps.security,
    metrics: deps.metrics?.service,
    // Everything but the health checks is for the services only; /metrics names the subscribers and their positions.
    busPaths: ['/events', '/subscribers', '/dead-letters', '/metrics'],
    events: publishEndpoint({ log: deps.backend, lifecycle: deps.lifecycle, logger: deps.logger, metrics: deps.metrics?.bus }),
    routers: [readRoutes(deps.backend), deadLetterRoutes(deps.backend)],
  });
}
