import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
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
}

export function createApp(deps: PostsDeps): RequestListener {
  return createSubscriberApp({ ...deps, name: 'posts', routers: [postsRoutes(deps)] });
}
