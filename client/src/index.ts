import path from 'node:path';
import { Lifecycle, createLogger, runService, securityFrom } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { ApiProxy } from './proxy';
import { hasBuild } from './staticFiles';

const config = loadConfig();
const logger = createLogger('client', config.LOG_LEVEL, config.LOG_FORMAT);
const lifecycle = new Lifecycle();
const staticDir = path.resolve(config.STATIC_DIR ?? path.join(__dirname, '..', 'web', 'dist'));
const proxy = new ApiProxy({
  logger,
  lifecycle,
  timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
});
const upstreams = {
  posts: { name: 'posts', url: config.POSTS_URL },
  comments: { name: 'comments', url: config.COMMENTS_URL },
  query: { name: 'query', url: config.QUERY_URL },
};
const app = createApp({ lifecycle, logger, upstreams, proxy, staticDir, security: securityFrom(config) });

runService({
  name: 'client',
  app,
  port: config.PORT,
  host: config.HOST,
  lifecycle,
  logger,
  // Nothing to replay: ready once listening. A missing build is a mistake worth shouting about, but the
  // API routes still work, so it does not keep the server from starting.
  prepare: async () => {
    if (!hasBuild(staticDir)) logger.error({ staticDir }, 'no built page to serve: run "npm run build -w client"');
    logger.info({ staticDir, upstreams: Object.values(upstreams).map(({ name, url }) => `${name}=${url}`) }, 'client routes');
  },
  onShutdown: () => proxy.close(),
});
