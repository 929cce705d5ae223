import { createServiceApp, eventsRoute, type BusClient, type Lifecycle, type Logger, type SecurityOptions } from '@blog/common';
import type { Express } from 'express';
import { HANDLED_TYPES, handleEvent } from './domain/handleEvent';

export interface ModerationDeps {
  bus: BusClient;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: ModerationDeps): Express {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    security: deps.security,
    busPaths: ['/events'],
    eventRouter: eventsRoute({
      lifecycle: deps.lifecycle,
      logger: deps.logger,
      types: HANDLED_TYPES,
      handle: handleEvent,
      bus: deps.bus,
    }),
  });
}
