/** The embedded bus: opens its log, wires the app and the deliveries to it, and answers 503 until it has opened. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Lifecycle, ServiceMetrics, createServiceApp, runService, securityFrom, type Logger } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { createApp } from './app';
import type { Config } from './config';
import { DeliveryHub } from './delivery/deliveryHub';
import type { EventLog } from './store/eventLog';
import { openSqliteStorage } from './store/sqlite/sqliteStore';
import type { OpenStorage, StorageObserver } from './store/storage';
import { describeOpenFailure, unavailableRoutes } from './routes/unavailableRoutes';
import { DATA_FOLDER_IN_USE, LogDamagedError } from './store/sqlite/damage';
import type { BusBackend, PublishMeter } from './views';
import { Counter, Gauge } from 'prom-client';
import type { DeliveryObserver, SubscriberStatus } from './delivery/deliveryStats';

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
 * the deliveries to it; used by serveEmbeddedBus below and by the tests. Throws when the storage cannot be opened.
 */
export function createBus(config: Config, logger: Logger, lifecycle = new Lifecycle(), openStorage: OpenStorage = openSqliteStorage): Bus {
  // The metrics come after the storage opened: serveEmbeddedBus retries a failed open every few seconds, and
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

const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];

/** The bus's own series, beside the HTTP ones every service has. */
export class BusMetrics implements DeliveryObserver, PublishMeter {
  private readonly eventsStored: Counter;
  private readonly publishSeconds;
  private readonly commitSeconds;
  private readonly commitEvents;
  private readonly deliveries: Counter<'subscriber'>;
  private readonly eventsDelivered: Counter<'subscriber'>;
  private readonly failures: Counter<'subscriber'>;
  private readonly retries: Counter<'subscriber'>;
  private readonly deadLettered: Counter<'subscriber'>;

  constructor(metrics: ServiceMetrics, subscribers: () => SubscriberStatus[]) {
    const registers = [metrics.registry];
    this.eventsStored = new Counter({ name: 'bus_events_stored_total', help: 'Events appended to the log', registers });
    this.publishSeconds = metrics.histogram('bus_publish_duration_seconds', 'From a publish arriving to its events being stored (fsync included)');
    this.commitSeconds = metrics.histogram('bus_commit_duration_seconds', 'One SQLite commit of a group of appends, fsync included');
    this.commitEvents = metrics.histogram('bus_commit_events', 'Events stored by one commit (group commit batch size)', [], BATCH_BUCKETS);
    const perSubscriber = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['subscriber'] as const, registers });
    this.deliveries = perSubscriber('bus_subscriber_deliveries_total', 'Delivery requests a subscriber acknowledged');
    this.eventsDelivered = perSubscriber('bus_subscriber_events_delivered_total', 'Events a subscriber acknowledged');
    this.failures = perSubscriber('bus_subscriber_failures_total', 'Deliveries that failed (no answer, or not 2xx)');
    this.retries = perSubscriber('bus_subscriber_retries_total', 'Deliveries made again after a failure');
    this.deadLettered = perSubscriber('bus_subscriber_dead_lettered_total', 'Events parked as dead letters after repeated refusals');
    // Position and lag are read when scraped, so they are never stale.
    const gauge = (name: string, help: string, value: (status: SubscriberStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['subscriber'] as const,
        registers,
        collect() {
          this.reset();
          for (const status of subscribers()) this.set({ subscriber: status.url }, value(status));
        },
      });
    gauge('bus_subscriber_position', 'Last seq a subscriber has been given (or skipped as of no interest to it)', (s) => s.position);
    gauge('bus_subscriber_lag', 'Events in the log after the subscriber position', (s) => s.lag);
  }

  published(publishSeconds: number): void {
    this.publishSeconds.observe(publishSeconds);
  }

  /** Every commit, whether its events came in a publish or in a delivery's answer. */
  committed(events: number, commitSeconds: number): void {
    this.eventsStored.inc(events);
    this.commitSeconds.observe(commitSeconds);
    this.commitEvents.observe(events);
  }

  delivered(subscriber: string, events: number): void {
    this.deliveries.inc({ subscriber });
    this.eventsDelivered.inc({ subscriber }, events);
  }

  failed(subscriber: string): void {
    this.failures.inc({ subscriber });
  }

  retried(subscriber: string): void {
    this.retries.inc({ subscriber });
  }

  parked(subscriber: string): void {
    this.deadLettered.inc({ subscriber });
  }
}

const REOPEN_EVERY_MS = 2000;
/** Checking a damaged log reads all of it: not too often. */
const REOPEN_DAMAGED_EVERY_MS = 5000;

/** The embedded engine: this process owns the log (SQLite in DATA_DIR) and delivers it to the subscribers. */
export function serveEmbeddedBus(config: Config, logger: Logger, lifecycle: Lifecycle): void {
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
