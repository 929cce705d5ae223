import { createServiceApp, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import { Router } from 'express';
import type { RequestListener } from 'node:http';
import { flowRoutes, type FlowDeps } from './flow';
import { ApiProxy, type Upstream } from './proxy';
import { staticRoutes } from './staticFiles';

export interface ClientDeps {
  lifecycle: Lifecycle;
  logger: Logger;
  upstreams: { posts: Upstream; comments: Upstream; query: Upstream };
  proxy: ApiProxy;
  /** The Vite build of web/. */
  staticDir: string;
  security?: SecurityOptions;
  /** The flow page's API (`/flow/api/...`): the bus's log and subscribers, the live stream, the supervisor. */
  flow?: FlowDeps;
}

/** The API paths, routed as the ingress routes them, so the page talks to one origin. */
export function apiRoutes({ proxy, upstreams }: Pick<ClientDeps, 'proxy' | 'upstreams'>): Router {
  const router = Router();
  router.post(['/posts', '/posts/create'], proxy.to(upstreams.posts));
  router.get('/posts', proxy.to(upstreams.query));
  router.get('/posts/:id/comments', proxy.to(upstreams.comments));
  router.post('/posts/:id/comments', proxy.to(upstreams.comments));
  router.get('/updates', proxy.stream(upstreams.query));
  return router;
}

export function createApp(deps: ClientDeps): RequestListener {
  return createServiceApp({
    lifecycle: deps.lifecycle,
    logger: deps.logger,
    security: deps.security,
    routers: [apiRoutes(deps), ...(deps.flow ? [flowRoutes(deps.flow)] : []), staticRoutes(deps.staticDir)],
  });
}
