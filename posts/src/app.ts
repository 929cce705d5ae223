import { createServiceApp, eventsRoute, type BusClient, type Lifecycle, type LogFollower, type Logger, type SecurityOptions } from '@blog/common';
import type { Express } from 'express';
import { HANDLED_TYPES, applyEvent } from './domain/applyEvent';
import { postsRoutes } from './routes/postsRoutes';
import type { PostStore } from './store/postStore';

export interface PostsDeps {
  bus: BusClient;
  store: PostStore;
  lifecycle: Lifecycle;
  logger: Logger;
  follower?: LogFollower;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: PostsDeps): Express {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    security: deps.security,
    busPaths: ['/events'],
    eventRouter: eventsRoute({
      lifecycle: deps.lifecycle,
      logger: deps.logger,
      types: HANDLED_TYPES,
      handle: (event) => applyEvent(deps.store, event),
      onDelivered: (seq) => deps.follower?.noteDelivered(seq),
    }),
    routers: [
      postsRoutes(deps),
    ],
  });
}
