import { Lifecycle, LogFollower, createBusClient, createLogger, startService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { applyEvent } from './domain/applyEvent';
import { QueryStore } from './store/queryStore';

const config = loadConfig();
const logger = createLogger('query', config.LOG_LEVEL);
// query never publishes; it only reads the log to rebuild its view.
const bus = createBusClient({
  baseUrl: config.EVENT_BUS_URL,
  source: '/query',
  retries: config.PUBLISH_RETRIES,
  timeoutMs: config.BUS_TIMEOUT_MS,
});
const store = new QueryStore();
const lifecycle = new Lifecycle();
const follower = new LogFollower(bus, (event) => applyEvent(store, event, logger));
const app = createApp({ store, lifecycle, logger, follower });

startService({ name: 'query', app, port: config.PORT, host: config.HOST, lifecycle, logger, follower }).catch(
  (error: unknown) => {
    logger.fatal({ err: error }, 'query failed to start');
    process.exit(1);
  },
);
