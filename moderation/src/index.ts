import { Lifecycle, createBusClient, createLogger, startService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';

const config = loadConfig();
const logger = createLogger('moderation', config.LOG_LEVEL);
const bus = createBusClient({
  baseUrl: config.EVENT_BUS_URL,
  source: '/moderation',
  retries: config.PUBLISH_RETRIES,
  timeoutMs: config.BUS_TIMEOUT_MS,
});
const lifecycle = new Lifecycle();
const app = createApp({ bus, lifecycle, logger });

// Moderation keeps nothing, so it has no log to replay: it is ready as soon as it listens.
startService({ name: 'moderation', app, port: config.PORT, host: config.HOST, lifecycle, logger }).catch(
  (error: unknown) => {
    logger.fatal({ err: error }, 'moderation failed to start');
    process.exit(1);
  },
);
