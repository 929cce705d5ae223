import { createServiceApp, eventsRoute, type BusClient, type Lifecycle, type LogFollower, type Logger } from '@blog/common';
import type { Express } from 'express';
import { HANDLED_TYPES, handleEvent } from './domain/handleEvent';
import { commentsRoutes } from './routes/commentsRoutes';
import type { CommentStore } from './store/commentStore';

export interface CommentsDeps {
  bus: BusClient;
  store: CommentStore;
  lifecycle: Lifecycle;
  logger: Logger;
  follower: LogFollower;
}

export function createApp(deps: CommentsDeps): Express {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    routers: [
      commentsRoutes({ ...deps, catchUp: () => deps.follower.catchUp() }),
      eventsRoute({
        lifecycle: deps.lifecycle,
        logger: deps.logger,
        types: HANDLED_TYPES,
        handle: (event, context) => handleEvent(deps, event, context),
        onDelivered: (seq) => deps.follower.noteDelivered(seq),
      }),
    ],
  });
}
