import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, RepeatableWrites, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { postsRoutes } from './routes/postsRoutes';
import type { PostStore } from './store/postStore';

export interface PostsDeps {
  engine: EventEngine;
  /** Takes the events in: built with postsEventHandlers(store). */
  receiver: EventReceiver;
  store: PostStore;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
  /** Seals the ids of keyed writes with the service's secret; ids stay as derived without one (tests). */
  sealId?: (id: string) => string;
}

export function createApp(deps: PostsDeps): RequestListener {
  const writes = new RepeatableWrites(() => deps.receiver.catchUp(), deps.sealId);
  return createSubscriberApp({ ...deps, name: 'posts', routers: [postsRoutes({ ...deps, writes })] });
}
