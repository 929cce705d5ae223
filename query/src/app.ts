import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { LiveReaders } from './routes/liveReaders';
import { queryRoutes, type QueryStore } from './view';

export interface QueryDeps {
  engine: EventEngine;
  /** Takes the events in: built with queryEventHandlers(store). */
  receiver: EventReceiver;
  store: QueryStore;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
  /** The bound on `/updates` streams; the defaults unless a test sets tighter ones. */
  liveReaders?: LiveReaders;
}

export function createApp(deps: QueryDeps): RequestListener {
  return createSubscriberApp({ ...deps, name: 'query', routers: [queryRoutes(deps.store, deps.lifecycle, deps.liveReaders)] });
}
