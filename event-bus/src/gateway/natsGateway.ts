import { Lifecycle, NatsConnector, NatsPublisher, listDeadLetters, natsOptionsFrom, retryNatsDeadLetters, readStreamAfter, securityFrom, ServiceMetrics, StreamWatch, type Logger } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { createApp } from '../app';
import type { Config } from '../config';
import type { DeadLetter } from '../store/subscriberState';
import type { BusBackend } from '../views';
import { natsSubscribers } from './natsSubscribers';

export interface Gateway {
  app: RequestListener;
  close(): Promise<void>;
}

/**
 * The event-bus service with NATS JetStream as the engine: a stateless HTTP gateway for course-style
 * publishers and readers, which any number of replicas can run. POST /events publishes into the stream
 * (each event with its id as Nats-Msg-Id), GET /events reads it, and /subscribers and /dead-letters
 * show the durable consumers and the dead-letter stream.
 */
export function createGateway(config: Config, logger: Logger, lifecycle = new Lifecycle()): Gateway {
  // Like a service's engine, the gateway neither publishes into nor serves a stream found damaged.
  const connector = new NatsConnector(natsOptionsFrom(config, 'event-bus'), new StreamWatch(logger));
  lifecycle.watchProblems(() => connector.problem());
  const publisher = new NatsPublisher(connector, config.NATS_PUBLISH_WAIT_MS);
  const link = () => connector.connected();
  // Connect at once, so /readyz tells of a damaged stream before the first request does.
  void link().catch(() => undefined);
  const backend: BusBackend = {
    // One by one in order, but not waiting for each: the connection keeps them in order to the server.
    append: async (envelopes) => {
      await connector.assertWhole();
      return Promise.all(envelopes.map((envelope) => publisher.publish(envelope)));
    },
    readAfter: async (after, limit) => {
      await connector.assertWhole();
      return readStreamAfter(await link(), after, limit, config.BUS_TIMEOUT_MS);
    },
    subscribers: async () => natsSubscribers(await link()),
    deadLetters: async () => (await listDeadLetters(await link(), config.BUS_TIMEOUT_MS)).map(({ event: _event, ...letter }): DeadLetter => letter),
    retryDeadLetters: async (filter) => retryNatsDeadLetters(await link(), filter, config.BUS_TIMEOUT_MS),
  };
  const app = createApp({ backend, lifecycle, logger, security: securityFrom(config), metrics: { service: new ServiceMetrics() } });
  return { app, close: () => connector.close() };
}
