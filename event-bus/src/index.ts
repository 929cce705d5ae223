import { Lifecycle, createLogger, createServiceApp, runService, securityFrom } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { createBus, type Bus } from './bus';
import { loadConfig, type Config } from './config';
import { createGateway } from './gateway/natsGateway';
import { describeOpenFailure, unavailableRoutes } from './routes/unavailableRoutes';

const REOPEN_EVERY_MS = 2000;

const config = loadConfig();
const logger = createLogger('event-bus', config.LOG_LEVEL, config.LOG_FORMAT);
const lifecycle = new Lifecycle();

/** The embedded engine: this process owns the log (SQLite in DATA_DIR) and delivers it to the subscribers. */
function runEmbedded(config: Config): void {
  let bus: Bus | null = null;
  let unavailable = 'it is being opened';
  // Until the log opens (DATA_DIR unwritable, disk full), the bus stays up, alive but not ready, and
  // answers 503 to publishes, instead of crash-looping with nothing to say over HTTP.
  const waiting = createServiceApp({
    lifecycle,
    logger,
    security: securityFrom(config),
    routers: [unavailableRoutes(() => unavailable)],
  });
  // A plain listener picks the app: wrapping one Express app in another cost every publish a second
  // pass through Express's request set-up.
  const app: RequestListener = (req, res) => (bus?.app ?? waiting)(req, res);

  async function openLog(): Promise<void> {
    while (!lifecycle.isDraining) {
      try {
        bus = createBus(config, logger, lifecycle);
        logger.info({ dataDir: config.DATA_DIR, lastSeq: bus.log.lastSeq }, 'event log opened');
        bus.hub.start();
        return;
      } catch (error) {
        unavailable = describeOpenFailure(error);
        logger.error(
          { dataDir: config.DATA_DIR, reason: error instanceof Error ? error.message : String(error), retryInMs: REOPEN_EVERY_MS },
          `cannot open the event log: ${unavailable}`,
        );
        await new Promise((resolve) => setTimeout(resolve, REOPEN_EVERY_MS));
      }
    }
  }

  runService({ name: 'event-bus', app, port: config.PORT, host: config.HOST, lifecycle, logger, prepare: openLog, onShutdown: () => bus?.close() });
}

/** NATS JetStream keeps the events: this process only translates HTTP, so it is ready as soon as it listens. */
function runGateway(config: Config): void {
  const gateway = createGateway(config, logger, lifecycle);
  runService({ name: 'event-bus', app: gateway.app, port: config.PORT, host: config.HOST, lifecycle, logger, onShutdown: () => gateway.close() });
}

if (config.NATS_URL.length > 0) runGateway(config);
else runEmbedded(config);
