import type { EventEngine } from '@blog/contracts';
import type { BusServiceConfig, NatsConfig } from '../config';
import type { Logger } from '../logger';
import { HttpEngine } from './httpEngine';
import { NatsEngine } from './nats/natsEngine';
import type { NatsOptions } from './nats/connection';

/** The connection settings of the NATS engine, from the configuration; `name` names the connection. */
export function natsOptionsFrom(config: NatsConfig, name: string): NatsOptions {
  return {
    servers: config.NATS_URL,
    name,
    replicas: config.NATS_REPLICAS,
    dedupeWindowMs: config.NATS_DEDUPE_WINDOW_MS,
    timeoutMs: config.BUS_TIMEOUT_MS,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
  };
}

/**
 * The event engine a service's configuration names: NATS JetStream when NATS_URL is set, otherwise the
 * embedded bus at EVENT_BUS_URL. `source` names the service in every event it publishes.
 */
export function engineFor(config: BusServiceConfig, source: string, logger: Logger): EventEngine {
  if (config.NATS_URL.length > 0) {
    return new NatsEngine({
      // The process id tells one replica's connection from another's on the server (its /connz).
      ...natsOptionsFrom(config, `${source.slice(1)} (pid ${process.pid})`),
      source,
      publishWaitMs: config.NATS_PUBLISH_WAIT_MS,
      reactions: { ackWaitMs: config.NATS_ACK_WAIT_MS, maxDeliveries: config.MAX_DELIVERY_ATTEMPTS, retryMaxMs: config.RETRY_MAX_MS, inFlight: 64 },
      logger,
    });
  }
  return new HttpEngine({
    baseUrl: config.EVENT_BUS_URL,
    source,
    retries: config.PUBLISH_RETRIES,
    timeoutMs: config.BUS_TIMEOUT_MS,
    token: config.BUS_TOKEN,
  });
}
