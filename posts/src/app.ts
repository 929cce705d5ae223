import { createSubscriberApp, type BusClient, type Lifecycle, type LogFollower, type Logger, type SecurityOptions } from '@blog/common';
import type { RequestListener } from 'node:http';
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

export function createApp(deps: PostsDeps): RequestListener {
  return createSubscriberApp({
    ...deps,
    types: HANDLED_TYPES,
    handle: (event) => applyEvent(deps.store, event),
    routers: [postsRoutes(deps)],
  });
}
