import { createLogger, runService } from '@blog/common';
import { createBus } from './bus';
import { loadConfig } from './config';

const config = loadConfig();
const logger = createLogger('event-bus', config.LOG_LEVEL);
let bus: ReturnType<typeof createBus>;
try {
  bus = createBus(config, logger);
} catch (error) {
  // Usually DATA_DIR is not writable by this user: say so plainly instead of a native stack trace.
  logger.fatal({ dataDir: config.DATA_DIR, reason: error instanceof Error ? error.message : String(error) }, 'cannot open the event log');
  process.exit(1);
}
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
