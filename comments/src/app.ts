import { createServiceApp, eventsRoute, type BusClient, type Lifecycle, type LogFollower, type Logger, type SecurityOptions } from '@blog/common';
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
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: CommentsDeps): Express {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    security: deps.security,
    busPaths: ['/events'],
    eventRouter: eventsRoute({
      lifecycle: deps.lifecycle,
      logger: deps.logger,
      types: HANDLED_TYPES,
      handle: (event, context) => handleEvent(deps.store, event, context),
      bus: deps.bus,
      onDelivered: (seq) => deps.follower.noteDelivered(seq),
    }),
    routers: [commentsRoutes({ ...deps, catchUp: () => deps.follower.catchUp() })],
  });
}
