import { randomUUID } from 'node:crypto';
import { EngineUnavailableError, READY_GRACE_MS, ServerNotAnsweringError, buildEnvelope, logPageSchema, type EngineProblem, type EventConsumer, type EventEngine, type FeedPosition, type KnownEvent, type LogEntry, type PublishOptions, type PublishReceipt, type Subscription } from '@blog/contracts';
import type { Logger } from '../../logger';
import { NatsConnector, type NatsLink, type NatsOptions } from './connection';
import { LiveApply } from './liveApply';
import { NatsPublisher, describeNatsFailure } from './publisher';
import { readAfter } from './reader';
import { EVENTS_STREAM, durableNameOf } from './names';
import { DurableHealth, liveFeed, retryFeed, type ReactionOptions } from './durables';
import { SharedReactions } from './sharedReactions';
import { StreamWatch } from './streamCheck';

export interface NatsEngineOptions extends NatsOptions {
  /** CloudEvents `source` of everything this engine publishes, e.g. "/comments"; also names its durable consumer. */
  source: string;
  /** How long a publish keeps trying before it fails (503 or 504). */
  publishWaitMs: number;
  reactions: ReactionOptions;
  logger: Logger;
}

/** One of the consumers a replica runs on its connection (LiveApply, SharedReactions). */
interface ReplicaPart {
  start(link: NatsLink): Promise<void>;
  stop(): Promise<void>;
}

/** Whether the connection's server answers a ping within a second. */
async function answersPing(link: NatsLink): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 1_000)));
  try {
    return await Promise.race([link.nc.rtt().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * NATS JetStream as the event engine: the services publish to and consume from the stream directly,
 * with no hop through the event-bus service. Replay reads the stream; live events reach every replica
 * through an ordered consumer of its own (state), and one replica through the service's durable consumer
 * (side effects).
 */
export class NatsEngine implements EventEngine {
  readonly delivery = 'pull' as const;
  readonly source: string;
  private readonly connector: NatsConnector;
  private readonly publisher: NatsPublisher;

  constructor(private readonly options: NatsEngineOptions) {
    this.source = options.source;
    this.connector = new NatsConnector(options, new StreamWatch(options.logger));
    this.publisher = new NatsPublisher(this.connector, options.publishWaitMs);
  }

  /** The stream found damaged (acknowledged events gone from a server's store), or null. */
  problem(): EngineProblem | null {
    return this.connector.problem();
  }

  async publish(event: KnownEvent, { id = randomUUID(), requestId }: PublishOptions = {}): Promise<PublishReceipt> {
    await this.connector.assertWhole();
    const { seq, duplicate } = await this.publisher.publish(buildEnvelope(event, this.source, id, new Date(), requestId));
    return { id, seq, duplicate };
  }

  async read(after: number, limit: number): Promise<LogEntry[]> {
    await this.connector.assertWhole();
    try {
      const rows = await readAfter(await this.connector.connected(), after, limit, this.options.timeoutMs);
      return logPageSchema.parse(
        rows.map((row) => {
          const stored = JSON.parse(row.body) as { id?: unknown; type?: unknown };
          // A body that names another type than its subject is a forgery: the replay passes it (see eventOfMessage).
          if (stored.type === row.type) return stored;
          return { seq: row.seq, id: typeof stored.id === 'string' ? stored.id : '', type: row.type, data: null, refused: `its body says ${JSON.stringify(stored.type ?? null)} but it was published as a ${row.type}` };
        }),
      );
    } catch (error) {
      throw new EngineUnavailableError(describeNatsFailure(error), 'cannot read the event log');
    }
  }

  async subscribe(consumer: EventConsumer): Promise<Subscription> {
    const link = await this.connector.connected();
    await this.connector.assertWhole();
    const { applies, reactsTo } = consumer.handlers;
    const { logger, reactions } = this.options;
    // Its own feed of the events it applies; and, when it reacts to events, its share of the service's
    // durable consumers (the live events, and the parked ones sent back to it), watched for a stall.
    const live = applies.length > 0 ? new LiveApply(consumer, logger) : null;
    const parts: ReplicaPart[] = live ? [live] : [];
    let durable: DurableHealth | null = null;
    if (reactsTo.length > 0) {
      const name = durableNameOf(this.source);
      const publish: EventEngine['publish'] = (event, options) => this.publish(event, options);
      parts.push(new SharedReactions(name, liveFeed(name, reactsTo), consumer, publish, reactions, logger));
      parts.push(new SharedReactions(name, retryFeed(name), consumer, publish, reactions, logger));
      durable = new DurableHealth(EVENTS_STREAM, name, READY_GRACE_MS);
    }
    const started: ReplicaPart[] = [];
    const stopAll = async () => {
      durable?.stop();
      await Promise.all(started.map((part) => part.stop()));
    };
    try {
      for (const part of parts) {
        await part.start(link);
        started.push(part);
      }
    } catch (error) {
      // Nothing half-started keeps consuming: the caller retries the whole subscription.
      await stopAll().catch(() => undefined);
      throw error;
    }
    durable?.start(link);
    return {
      stop: stopAll,
      heal: async () => live?.restart(),
      health: () => durable?.health() ?? { state: 'following' },
    };
  }

  /**
   * The stream's end, from its leader; this replica's feed passes every event, so its own position says
   * the rest. When the stream does not answer, a ping tells a stream electing its leader (the server
   * answers the ping) from this process's own server hung (it does not).
   */
  async feedPosition(): Promise<FeedPosition> {
    const link = this.connector.current();
    try {
      const { state } = await (link ?? (await this.connector.connected())).jsm.streams.info(EVENTS_STREAM);
      // A stream a repair emptied ends past seqs that hold nothing: there is nothing to be behind on.
      return { logEnd: state.messages === 0 ? 0 : state.last_seq, passed: 0 };
    } catch (error) {
      if (link && this.connector.online && !(await answersPing(link))) throw new ServerNotAnsweringError(`its NATS server answers no ping (${describeNatsFailure(error)})`);
      throw new EngineUnavailableError(describeNatsFailure(error), 'cannot reach the event log');
    }
  }

  close(): Promise<void> {
    return this.connector.close();
  }
}
