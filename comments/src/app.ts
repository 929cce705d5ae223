import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { commentsRoutes } from './routes/commentsRoutes';
import type { CommentStore } from './store/commentStore';

export interface CommentsDeps {
  engine: EventEngine;
  /** Takes the events in: built with commentsEventHandlers(store). */
  receiver: EventReceiver;
  store: CommentStore;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: CommentsDeps): RequestListener {
  return createSubscriberApp({ ...deps, name: 'comments', routers: [commentsRoutes({ ...deps, catchUp: () => deps.receiver.catchUp() })] });
}
