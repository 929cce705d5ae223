import { createLogger, startService } from '@blog/common';
import { createBus } from './bus';
import { loadConfig } from './config';

const config = loadConfig();
const logger = createLogger('event-bus', config.LOG_LEVEL);
const bus = createBus(config, logger);
logger.info({ dataDir: config.DATA_DIR, lastSeq: bus.log.lastSeq }, 'event log opened');
bus.hub.start();

startService({
  name: 'event-bus',
  app: bus.app,
  port: config.PORT,
  host: config.HOST,
  lifecycle: bus.lifecycle,
  logger,
  onShutdown: () => bus.close(),
}).catch((error: unknown) => {
  logger.fatal({ err: error }, 'event-bus failed to start');
  process.exit(1);
});
