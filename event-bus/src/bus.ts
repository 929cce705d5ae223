import { Lifecycle, ServiceMetrics, securityFrom, type Logger } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { createApp } from './app';
import { BusMetrics } from './busMetrics';
import type { Config } from './config';
import { DeliveryHub } from './delivery/deliveryHub';
import type { EventLog } from './store/eventLog';
import { openSqliteStorage } from './store/sqlite/sqliteStore';
import type { OpenStorage, StorageObserver } from './store/storage';
import type { BusBackend } from './views';

export interface Bus {
  app: RequestListener;
  lifecycle: Lifecycle;
  hub: DeliveryHub;
  log: EventLog;
  /** Stops delivering, commits what is queued and closes the storage. */
  close(): Promise<void>;
}

/** The routes' view of the embedded engine: the log, and the delivery hub's subscribers and dead letters. */
export function embeddedBackend(log: EventLog, hub: DeliveryHub): BusBackend {
  return {
    append: (envelopes) => log.append(envelopes),
    readAfter: (after, limit) => log.readAfter(after, limit),
    logEnd: () => log.lastSeq,
    subscribers: () => hub.status(),
    deadLetters: () => hub.deadLetters(),
    retryDeadLetters: (filter) => hub.retryDeadLetters(filter),
  };
}

/** What the storage reports goes to the bus's log, its metrics and its readiness. */
function storageObserver(logger: Logger, lifecycle: Lifecycle, metrics: () => BusMetrics | undefined): StorageObserver {
  return {
    // The first sign of damage at run time: from here on the bus is not ready, and says why, until restarted.
    damaged: (damage) => {
      if (lifecycle.problem) return;
      lifecycle.markProblem({ status: 'damaged', ...damage });
      logger.error({ problems: damage.problems, action: damage.action }, `the event log is damaged: ${damage.problems.join('; ')}`);
    },
    committed: (events, seconds) => metrics()?.committed(events, seconds),
    // Not fatal: an unsaved position only means those events are delivered again after a restart.
    stateNotSaved: (reason) => logger.error({ reason }, 'could not save subscriber positions or dead letters'),
    tornTail: (droppedBytes) =>
      logger.warn({ droppedBytes }, 'the last write to the log was torn (the bus died mid-write); dropped the partial record'),
  };
}

/**
 * Opens the storage (SQLite in `DATA_DIR` unless `openStorage` says otherwise) and wires the app and
 * the deliveries to it; used by index.ts and by the tests. Throws when the storage cannot be opened.
 */
export function createBus(config: Config, logger: Logger, lifecycle = new Lifecycle(), openStorage: OpenStorage = openSqliteStorage): Bus {
  // The metrics come after the storage opened: index.ts retries a failed open every few seconds, and
  // each ServiceMetrics starts the process's default collectors.
  let metrics: BusMetrics | undefined;
  const storage = openStorage(config.DATA_DIR, storageObserver(logger, lifecycle, () => metrics));
  const service = new ServiceMetrics();
  metrics = new BusMetrics(service, () => hub.status());
  const hub: DeliveryHub = new DeliveryHub({
    subscribers: config.SUBSCRIBERS,
    log: storage.log,
    state: storage.subscribers,
    delivery: {
      batchSize: config.DELIVERY_BATCH_SIZE,
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      retryBaseMs: config.RETRY_BASE_MS,
      retryMaxMs: config.RETRY_MAX_MS,
      maxAttempts: config.MAX_DELIVERY_ATTEMPTS,
    },
    logger,
    credentials: config.BUS_CREDENTIALS,
    observer: metrics,
  });
  const app = createApp({ backend: embeddedBackend(storage.log, hub), lifecycle, logger, security: securityFrom(config), metrics: { service, bus: metrics } });
  return {
    app,
    lifecycle,
    hub,
    log: storage.log,
    async close() {
      lifecycle.markDraining();
      await hub.stop();
      await storage.close();
    },
  };
}
