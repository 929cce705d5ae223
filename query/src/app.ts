import { createSubscriberApp, type Lifecycle, type LogFollower, type Logger, type SecurityOptions } from '@blog/common';
import type { RequestListener } from 'node:http';
import { HANDLED_TYPES, applyEvent } from './domain/applyEvent';
import { queryRoutes } from './routes/queryRoutes';
import type { QueryStore } from './store/queryStore';

export interface QueryDeps {
  store: QueryStore;
  lifecycle: Lifecycle;
  logger: Logger;
  follower?: LogFollower;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: QueryDeps): RequestListener {
  return createSubscriberApp({
    ...deps,
    types: HANDLED_TYPES,
    handle: (event) => applyEvent(deps.store, event, deps.logger),
    routers: [queryRoutes(deps.store, deps.lifecycle)],
  });
}
