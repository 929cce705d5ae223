import { randomUUID } from 'node:crypto';
import { EngineUnavailableError, buildEnvelope, logPageSchema } from '@blog/contracts';
import type { EngineProblem, EventConsumer, EventEngine, KnownEvent, LogEntry, PublishOptions, PublishReceipt, Subscription } from '@blog/contracts';
import type { Logger } from '../../logger';
import { NatsConnector, type NatsOptions } from './connection';
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
    const { seq } = await this.publisher.publish(buildEnvelope(event, this.source, id, new Date(), requestId));
    return { id, seq };
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
    const { applies, reactsTo } = consumer.handlers;
    const parts: { stop(): Promise<void> }[] = [];
    if (applies.length > 0) {
      const live = new LiveApply(consumer, this.options.logger);
      await live.start(link);
      parts.push(live);
    }
    if (reactsTo.length > 0) {
      const name = durableNameOf(this.source);
      const publish: EventEngine['publish'] = (event, options) => this.publish(event, options);
      // The live events, and the parked ones sent back to it to try again.
      for (const feed of [liveFeed(name, reactsTo), retryFeed(name)]) {
        const reactions = new SharedReactions(name, feed, consumer, publish, this.options.reactions, this.options.logger);
        await reactions.start(link);
        parts.push(reactions);
      }
    }
    return { stop: async () => void (await Promise.all(parts.map((part) => part.stop()))) };
  }

  close(): Promise<void> {
    return this.connector.close();
  }
}
