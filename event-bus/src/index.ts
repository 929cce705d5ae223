import { createLogger, runService } from '@blog/common';
import { createBus } from './bus';
import { loadConfig } from './config';

const config = loadConfig();
const logger = createLogger('event-bus', config.LOG_LEVEL);
const bus = createBus(config, logger);
logger.info({ dataDir: config.DATA_DIR, lastSeq: bus.log.lastSeq }, 'event log opened');
bus.hub.start();

runService({
  name: 'event-bus',
  app: bus.app,
  port: config.PORT,
  host: config.HOST,
  lifecycle: bus.lifecycle,
  logger,
  onShutdown: () => bus.close(),
});
