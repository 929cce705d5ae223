import { EngineUnavailableError } from '@blog/contracts';
import { Lifecycle, NatsConnector, describeNatsFailure, natsNames, type NatsLink, NatsPublisher, listDeadLetters, natsOptionsFrom, retryNatsDeadLetters, readStreamAfter, securityFrom, ServiceMetrics, StreamWatch, type Logger } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { createApp } from '../app';
import type { Config } from '../config';
import type { DeadLetter } from '../store/subscriberState';
import { PartlyStoredError, type BatchOutcome, type BusBackend } from '../views';
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
/** The longest the gateway waits on NATS before it answers a read with 503. */
const READ_WAIT_MS = 1_000;

export function createGateway(config: Config, logger: Logger, lifecycle = new Lifecycle()): Gateway {
  // Like a service's engine, the gateway neither publishes into nor serves a stream found damaged.
  const connector = new NatsConnector(natsOptionsFrom(config, 'event-bus'), new StreamWatch(logger));
  lifecycle.watchProblems(() => connector.problem());
  const publisher = new NatsPublisher(connector, config.NATS_PUBLISH_WAIT_MS);
  // Connect at once, so /readyz tells of a damaged stream before the first request does.
  void connector.connected().catch(() => undefined);
  /**
   * A read answered from what NATS says within READ_WAIT_MS, or a 503: never a hang while NATS is out
   * of reach, and never a 500 for what is NATS's state, not the gateway's fault.
   */
  const quickly = async <T>(what: string, read: (link: NatsLink) => Promise<T>): Promise<T> => {
    const link = connector.current();
    if (!link || !connector.online) throw new EngineUnavailableError(`NATS is out of reach: cannot ${what}`, `cannot ${what} right now: NATS is out of reach`);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineUnavailableError(`NATS did not answer within ${READ_WAIT_MS} ms`, `cannot ${what} right now: NATS did not answer in time`)), READ_WAIT_MS);
    });
    try {
      return await Promise.race([read(link), late]);
    } catch (error) {
      if (error instanceof EngineUnavailableError) throw error;
      throw new EngineUnavailableError(describeNatsFailure(error), `cannot ${what} right now`);
    } finally {
      clearTimeout(timer);
    }
  };
  const backend: BusBackend = {
    // One by one in order, but not waiting for each: the connection keeps them in order to the server.
    append: async (envelopes) => {
      await connector.assertWhole();
      const settled = await Promise.allSettled(envelopes.map((envelope) => publisher.publish(envelope)));
      const failure = settled.find((result) => result.status === 'rejected');
      if (!failure) return settled.map((result) => (result as PromiseFulfilledResult<Awaited<ReturnType<typeof publisher.publish>>>).value);
      // None stored: the publisher's own answer (503, or 504 when one may have been). Some: each named.
      if (settled.every((result) => result.status === 'rejected' && result.reason instanceof EngineUnavailableError)) throw failure.reason;
      throw new PartlyStoredError(
        settled.map((result, index): BatchOutcome => {
          const id = envelopes[index]!.id;
          if (result.status === 'fulfilled') return { index, id, outcome: 'stored', seq: result.value.seq };
          const reason = describeNatsFailure(result.reason);
          return { index, id, outcome: result.reason instanceof EngineUnavailableError ? 'not stored' : 'unknown', reason };
        }),
      );
    },
    readAfter: async (after, limit) => {
      await connector.assertWhole();
      return quickly('read the event log', (link) => readStreamAfter(link, after, limit, READ_WAIT_MS));
    },
    logEnd: () => quickly('read the event log', async (link) => (await link.jsm.streams.info(natsNames.EVENTS_STREAM)).state.last_seq),
    subscribers: () => quickly('list the subscribers', natsSubscribers),
    deadLetters: () => quickly('list the dead letters', async (link) => (await listDeadLetters(link, READ_WAIT_MS)).map(({ event: _event, ...letter }): DeadLetter => letter)),
    retryDeadLetters: async (filter) => {
      try {
        return await retryNatsDeadLetters(await connector.connected(), filter, config.BUS_TIMEOUT_MS);
      } catch (error) {
        // Each letter leaves the list only once it is sent back, so asking again finishes the rest.
        throw new EngineUnavailableError(describeNatsFailure(error), 'cannot send the dead letters back right now');
      }
    },
  };
  const app = createApp({ backend, lifecycle, logger, security: securityFrom(config), metrics: { service: new ServiceMetrics() } });
  return { app, close: () => connector.close() };
}
