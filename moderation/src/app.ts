import { createSubscriberApp, type BusClient, type Lifecycle, type Logger, type SecurityOptions } from '@blog/common';
import type { RequestListener } from 'node:http';
import { HANDLED_TYPES, handleEvent } from './domain/handleEvent';

export interface ModerationDeps {
  bus: BusClient;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: ModerationDeps): RequestListener {
  return createSubscriberApp({ ...deps, types: HANDLED_TYPES, handle: handleEvent });
}
