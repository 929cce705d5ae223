import path from 'node:path';
import { Lifecycle, createLogger, runService, securityFrom } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { createFlow, serviceStateOf } from './flow';
import { ApiProxy } from './proxy';
import { hasBuild } from './staticFiles';
import { WriteAttempts } from './writeAttempts';

const config = loadConfig();
const logger = createLogger('client', config.LOG_LEVEL, config.LOG_FORMAT);
const lifecycle = new Lifecycle();
const staticDir = path.resolve(config.STATIC_DIR ?? path.join(__dirname, '..', 'web', 'dist'));
const attempts = new WriteAttempts();
const upstreams = {
  posts: { name: 'posts', url: config.POSTS_URL },
  comments: { name: 'comments', url: config.COMMENTS_URL },
  query: { name: 'query', url: config.QUERY_URL },
};
const flow = createFlow({
  lifecycle,
  logger,
  urls: {
    'event-bus': config.EVENT_BUS_URL,
    posts: config.POSTS_URL,
    comments: config.COMMENTS_URL,
    moderation: config.MODERATION_URL,
    query: config.QUERY_URL,
  },
  busToken: config.BUS_TOKEN,
  supervisorUrl: config.SUPERVISOR_URL,
  connectTimeoutMs: Math.min(config.UPSTREAM_CONNECT_TIMEOUT_MS, 1_000),
  timeoutMs: 5_000,
  limits: { pollMs: config.FLOW_POLL_MS, maxViewers: config.FLOW_MAX_VIEWERS },
  writes: () => attempts.recent(),
});
const proxy = new ApiProxy({
  logger,
  lifecycle,
  timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
  attempts,
  stateOf: (name) => serviceStateOf(flow.snapshots, name),
});
const app = createApp({ lifecycle, logger, upstreams, proxy, staticDir, flow, security: securityFrom(config) });

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
    logger.info(
      {
        staticDir,
        upstreams: Object.values(upstreams).map(({ name, url }) => `${name}=${url}`),
        flow: { bus: config.EVENT_BUS_URL, mode: config.SUPERVISOR_URL ? 'local' : 'cluster', readCredential: Boolean(config.BUS_TOKEN) },
      },
      'client routes',
    );
  },
  onShutdown: async () => {
    await Promise.all([proxy.close(), flow.close()]);
  },
});
