import { createServiceApp, eventsRoute, type BusClient, type Lifecycle, type Logger } from '@blog/common';
import type { Express } from 'express';
import { HANDLED_TYPES, handleEvent } from './domain/handleEvent';

export interface ModerationDeps {
  bus: BusClient;
  lifecycle: Lifecycle;
  logger: Logger;
}

export function createApp(deps: ModerationDeps): Express {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    routers: [
      eventsRoute({
        lifecycle: deps.lifecycle,
        logger: deps.logger,
        types: HANDLED_TYPES,
        handle: (event) => handleEvent(deps.bus, event),
      }),
    ],
  });
}
