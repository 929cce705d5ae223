import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, RepeatableWrites, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
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
  /** Seals the ids of keyed writes with the service's secret; ids stay as derived without one (tests). */
  sealId?: (id: string) => string;
}

export function createApp(deps: CommentsDeps): RequestListener {
  const catchUp = () => deps.receiver.catchUp();
  const writes = new RepeatableWrites(catchUp, deps.sealId);
  return createSubscriberApp({ ...deps, name: 'comments', routers: [commentsRoutes({ ...deps, catchUp, writes })] });
}
