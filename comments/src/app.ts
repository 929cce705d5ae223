import { createSubscriberApp, type BusClient, type Lifecycle, type LogFollower, type Logger, type SecurityOptions } from '@blog/common';
import type { RequestListener } from 'node:http';
import { HANDLED_TYPES, handleEvent } from './domain/handleEvent';
import { commentsRoutes } from './routes/commentsRoutes';
import type { CommentStore } from './store/commentStore';

export interface CommentsDeps {
  bus: BusClient;
  store: CommentStore;
  lifecycle: Lifecycle;
  logger: Logger;
  follower: LogFollower;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: CommentsDeps): RequestListener {
  return createSubscriberApp({
    ...deps,
    types: HANDLED_TYPES,
    handle: (event, context) => handleEvent(deps.store, event, context),
    routers: [commentsRoutes({ ...deps, catchUp: () => deps.follower.catchUp() })],
  });
}
