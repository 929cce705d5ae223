import { Lifecycle, ServiceMetrics, securityFrom, type Logger } from '@blog/common';
import { BusMetrics } from './busMetrics';
import type { RequestListener } from 'node:http';
import { createApp } from './app';
import type { Config } from './config';
import { DeliveryHub } from './delivery/deliveryHub';
import { SqliteEventLog } from './store/sqliteEventLog';

export interface Bus {
  app: RequestListener;
  lifecycle: Lifecycle;
  hub: DeliveryHub;
  log: SqliteEventLog;
  /** Stops delivering, commits what is queued and closes the log. */
  close(): Promise<void>;
}

/** Opens the log and wires the app and the deliveries; used by index.ts and by the tests. */
export function createBus(config: Config, logger: Logger, lifecycle = new Lifecycle()): Bus {
  const log = new SqliteEventLog(config.DATA_DIR);
  // Not fatal: an unsaved position only means those events are delivered again after a restart.
  log.onStateError((reason) => logger.error({ reason }, 'could not save subscriber positions or dead letters'));
  const service = new ServiceMetrics();
  const metrics = new BusMetrics(service, () => hub.status());
  log.onCommit((events, seconds) => metrics.committed(events, seconds));
  const hub: DeliveryHub = new DeliveryHub(
    config.SUBSCRIBERS,
    log,
    {
      batchSize: config.DELIVERY_BATCH_SIZE,
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      retryBaseMs: config.RETRY_BASE_MS,
      retryMaxMs: config.RETRY_MAX_MS,
      maxAttempts: config.MAX_DELIVERY_ATTEMPTS,
    },
    logger,
    config.BUS_TOKEN,
    metrics,
  );
  const app = createApp({ log, hub, lifecycle, logger, security: securityFrom(config), metrics: { service, bus: metrics } });
  return {
    app,
    lifecycle,
    hub,
    log,
    async close() {
      lifecycle.markDraining();
      await hub.stop();
      await log.close();
    },
  };
}
