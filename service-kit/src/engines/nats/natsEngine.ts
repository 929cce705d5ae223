import { randomUUID } from 'node:crypto';
import { EngineUnavailableError, buildEnvelope, logPageSchema } from '@blog/contracts';
import type { EngineProblem, EventConsumer, EventEngine, KnownEvent, LogEntry, PublishOptions, PublishReceipt, Subscription } from '@blog/contracts';
import type { Logger } from '../../logger';
import { NatsConnector, type NatsLink, type NatsOptions } from './connection';
import { LiveApply } from './liveApply';
import { NatsPublisher, describeNatsFailure } from './publisher';
import { readAfter } from './reader';
import { durableNameOf } from './names';
import { SharedReactions, liveFeed, retryFeed, type ReactionOptions } from './sharedReactions';
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
      return logPageSchema.parse(rows.map((row) => JSON.parse(row.body)));
    } catch (error) {
      throw new EngineUnavailableError(describeNatsFailure(error), 'cannot read the event log');
    }
  }

  async subscribe(consumer: EventConsumer): Promise<Subscription> {
    const link = await this.connector.connected();
    await this.connector.assertWhole();
    const parts: ReplicaPart[] = [];
    const stopAll = async () => void (await Promise.all(parts.map((part) => part.stop())));
    try {
      for (const part of this.partsFor(consumer)) {
        await part.start(link);
        parts.push(part);
      }
    } catch (error) {
      // Nothing half-started keeps consuming: the caller retries the whole subscription.
      await stopAll().catch(() => undefined);
      throw error;
    }
    return { stop: stopAll };
  }

  /**
   * What one replica runs: its own feed of the events it applies; and, when it reacts to events, its share
   * of the service's durable consumers (the live events, and the parked ones sent back to it).
   */
  private partsFor(consumer: EventConsumer): ReplicaPart[] {
    const { applies, reactsTo } = consumer.handlers;
    const { logger, reactions } = this.options;
    const parts: ReplicaPart[] = [];
    if (applies.length > 0) parts.push(new LiveApply(consumer, logger));
    if (reactsTo.length > 0) {
      const name = durableNameOf(this.source);
      const publish: EventEngine['publish'] = (event, options) => this.publish(event, options);
      parts.push(new SharedReactions(name, liveFeed(name, reactsTo), consumer, publish, reactions, logger));
      parts.push(new SharedReactions(name, retryFeed(name), consumer, publish, reactions, logger));
    }
    return parts;
  }

  close(): Promise<void> {
    return this.connector.close();
  }
}
