import { createServiceApp, type Lifecycle, type Logger } from '@blog/common';
import type { Express } from 'express';
import type { DeliveryHub } from './delivery/deliveryHub';
import { publishRoutes } from './routes/publishRoutes';
import { readRoutes } from './routes/readRoutes';
import type { EventLog } from './store/eventLog';

export interface BusDeps {
  log: EventLog;
  hub: DeliveryHub;
  lifecycle: Lifecycle;
  logger: Logger;
}

export function createApp(deps: BusDeps): Express {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    routers: [publishRoutes(deps), readRoutes(deps)],
  });
}
