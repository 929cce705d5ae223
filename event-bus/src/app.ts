import { createServiceApp, type Lifecycle, type Logger, type SecurityOptions, type ServiceMetrics } from '@blog/service-kit';
import type { BusMetrics } from './busMetrics';
import type { RequestListener } from 'node:http';
import type { DeliveryHub } from './delivery/deliveryHub';
import { publishEndpoint } from './routes/publishEndpoint';
import { deadLetterRoutes } from './routes/deadLetterRoutes';
import { readRoutes } from './routes/readRoutes';
import type { EventLog } from './store/eventLog';

export interface BusDeps {
  log: EventLog;
  hub: DeliveryHub;
  lifecycle: Lifecycle;
  logger: Logger;
  security?: SecurityOptions;
  metrics?: { service: ServiceMetrics; bus: BusMetrics };
}

export function createApp(deps: BusDeps): RequestListener {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    security: deps.security,
    metrics: deps.metrics?.service,
    // Everything but the health checks is for the services only.
    busPaths: ['/events', '/subscribers', '/dead-letters'],
    events: publishEndpoint({ ...deps, metrics: deps.metrics?.bus }),
    routers: [readRoutes(deps), deadLetterRoutes(deps.hub)],
  });
}
