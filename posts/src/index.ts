import { Lifecycle, LogFollower, createBusClient, createLogger, startService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { applyEvent } from './domain/applyEvent';
import { PostStore } from './store/postStore';

const config = loadConfig();
const logger = createLogger('posts', config.LOG_LEVEL);
const bus = createBusClient({
  baseUrl: config.EVENT_BUS_URL,
  source: '/posts',
  retries: config.PUBLISH_RETRIES,
  timeoutMs: config.BUS_TIMEOUT_MS,
});
const store = new PostStore();
const lifecycle = new Lifecycle();
const follower = new LogFollower(bus, (event) => applyEvent(store, event));
const app = createApp({ bus, store, lifecycle, logger, follower });

startService({ name: 'posts', app, port: config.PORT, host: config.HOST, lifecycle, logger, follower }).catch(
  (error: unknown) => {
    logger.fatal({ err: error }, 'posts failed to start');
    process.exit(1);
  },
);
