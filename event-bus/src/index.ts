import { setTimeout as sleep } from 'node:timers/promises';
import { Lifecycle, createLogger, createServiceApp, runService, securityFrom } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { createBus, type Bus } from './bus';
import { loadConfig, type Config } from './config';
import { createGateway } from './gateway/natsGateway';
import { describeOpenFailure, unavailableRoutes } from './routes/unavailableRoutes';
import { DATA_FOLDER_IN_USE, LogDamagedError } from './store/sqlite/damage';

const REOPEN_EVERY_MS = 2000;
/** Checking a damaged log reads all of it: not too often. */
const REOPEN_DAMAGED_EVERY_MS = 5000;

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
    let lastReport = '';
    while (!lifecycle.isDraining) {
      try {
        bus = createBus(config, logger, lifecycle);
        lifecycle.clearProblem();
        logger.info({ dataDir: config.DATA_DIR, lastSeq: bus.log.lastSeq }, 'event log opened');
        bus.hub.start();
        return;
      } catch (error) {
        // Another bus holds this folder: this one refuses to start, rather than wait beside it.
        if ((error as { code?: unknown }).code === DATA_FOLDER_IN_USE) {
          logger.fatal({ dataDir: config.DATA_DIR }, error instanceof Error ? error.message : String(error));
          process.exit(1);
        }
        unavailable = describeOpenFailure(error);
        const retryInMs = error instanceof LogDamagedError ? REOPEN_DAMAGED_EVERY_MS : REOPEN_EVERY_MS;
        const report = error instanceof Error ? error.message : String(error);
        if (error instanceof LogDamagedError) {
          // Alive and not ready, saying once what is wrong; checked again every few seconds, so a repair
          // made while the bus waits is taken up without a restart.
          lifecycle.markProblem({ status: 'damaged', ...error.damage });
          if (report !== lastReport) logger.error({ dataDir: config.DATA_DIR, problems: error.damage.problems, action: error.damage.action }, `${report}. To repair: ${error.damage.action}`);
        } else {
          logger.error({ dataDir: config.DATA_DIR, reason: report, retryInMs }, `cannot open the event log: ${unavailable}`);
        }
        lastReport = report;
        await sleep(retryInMs);
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
