import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { queryRoutes } from './routes/queryRoutes';
import type { QueryStore } from './store/queryStore';

export interface QueryDeps {
  engine: EventEngine;
  /** Takes the events in: built with queryEventHandlers(store). */
  receiver: EventReceiver;
  store: QueryStore;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: QueryDeps): RequestListener {
  return createSubscriberApp({ ...deps, routers: [queryRoutes(deps.store, deps.lifecycle)] });
}
