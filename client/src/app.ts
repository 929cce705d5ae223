import { createServiceApp, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import { Router } from 'express';
import type { RequestListener } from 'node:http';
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
    routers: [apiRoutes(deps), staticRoutes(deps.staticDir)],
  });
}
