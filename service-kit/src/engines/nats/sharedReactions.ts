import { deliveredFrom, parsedOrNull, type Delivered, type EventConsumer, type EventEngine } from '@blog/contracts';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { parkDeadLetter, storedDeadLetterSchema } from './deadLetters';
import { DEAD_LETTER_STREAM, EVENTS_STREAM, PULL_EXPIRES_MS, filterFor, retrySubjectOf } from './names';
import { eventOfMessage } from './reader';

export interface ReactionOptions {
  /** How long a replica may hold an event unanswered before the server gives it to another. */
  ackWaitMs: number;
  /** Deliveries of one event before it is parked as a dead letter. */
  maxDeliveries: number;
  /** Longest wait between deliveries of an event that keeps failing. */
  retryMaxMs: number;
  /** Events handled at once by one replica. */
  inFlight: number;
  /**
   * How long each event is held before it is reacted to (moderation's MODERATION_DELAY_MS, for watching
   * the lag grow on the flow page); the server is told the replica is still working on it meanwhile.
   */
  holdMs?: number;
}

/** Waits between redeliveries: ack wait, then doubling, up to `retryMaxMs`; one fewer than the deliveries. */
export function backoffSteps({ ackWaitMs, maxDeliveries, retryMaxMs }: ReactionOptions): number[] {
  const steps = Math.min(Math.max(maxDeliveries - 1, 0), 20);
  return Array.from({ length: steps }, (_, index) => Math.min(ackWaitMs * 2 ** index, Math.max(retryMaxMs, ackWaitMs)));
}

function consumerConfig(name: string, filter: string, options: ReactionOptions): Partial<ConsumerConfig> {
  const backoff = backoffSteps(options);
  return {
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    // Made once for the life of the stream: a service that joins late reacts to everything before it too.
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: options.maxDeliveries,
    // nats-server wants more deliveries than backoff steps; with none to wait between, ack_wait alone.
    ...(backoff.length > 0 ? { backoff: backoff.map(nanos) } : {}),
    max_ack_pending: Math.max(options.inFlight * 4, 256),
  };
}

/** Creates a durable consumer, or brings an existing one's settings up to the configuration. */
async function ensureDurable(link: NatsLink, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
  try {
    await link.jsm.consumers.info(stream, config.durable_name!);
    const { ack_wait, max_deliver, backoff, max_ack_pending } = config;
    await link.jsm.consumers.update(stream, config.durable_name!, { ack_wait, max_deliver, backoff, max_ack_pending });
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.ConsumerNotFound) throw error;
    await link.jsm.consumers.add(stream, config);
  }
}

/** Where a durable consumer reads, and how its messages carry the events. */
export interface Feed {
  stream: string;
  durable: string;
  filter: string;
  /** The event a message carries, with its seq in the events stream, and the stored event itself; or why it is refused. */
  eventOf(message: JsMsg): { delivered: Delivered; stored: unknown } | { refused: string } | null;
  /** The dead letter's id for this message: the same whichever replica parks it. */
  parkingId(message: JsMsg, delivered: Delivered): string;
}

/** The live events of the types a service reacts to. */
export function liveFeed(consumer: string, reactsTo: readonly string[]): Feed {
  return {
    stream: EVENTS_STREAM,
    durable: consumer,
    filter: filterFor(reactsTo),
    eventOf: (message) => {
      const carried = eventOfMessage(message.subject, message.string());
      if ('refused' in carried) return carried;
      const delivered = deliveredFrom(carried.stored, message.seq);
      return delivered && { delivered, stored: carried.stored };
    },
    parkingId: (message) => `${consumer}:${message.seq}`,
  };
}

/** The service's parked events sent back to it (POST /dead-letters/retry): each message is the parked letter. */
export function retryFeed(consumer: string): Feed {
  return {
    stream: DEAD_LETTER_STREAM,
    durable: `${consumer}_retry`,
    filter: retrySubjectOf(consumer),
    eventOf: (message) => {
      const letter = storedDeadLetterSchema.safeParse(parsedOrNull(message.string()));
      const delivered = letter.success ? deliveredFrom(letter.data.event, letter.data.seq) : null;
      return delivered && { delivered, stored: letter.success ? letter.data.event : null };
    },
    // Each retry can park it anew, so the retry message's own position is part of the id.
    parkingId: (message, delivered) => `${consumer}:${delivered.context.seq}:retry:${message.seq}`,
  };
}

/**
 * The side effects of a service, once per event across all its replicas: one durable consumer, shared
 * by them, hands each event to one replica; it is acknowledged only after the events it caused are
 * stored. An event whose handler fails is delivered again after a backoff, and on its last delivery is
 * parked in the dead-letter stream instead. Follow-up ids are derived, so a redelivery stores nothing twice.
 */
export class SharedReactions {
  private messages: ConsumerMessages | null = null;
  private link: NatsLink | null = null;
  private arrived: JsMsg[] = [];
  private handleScheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    /** The consumer's name, as /subscribers and /dead-letters show it: the service's. */
    private readonly name: string,
    private readonly feed: Feed,
    private readonly consumer: EventConsumer,
    private readonly publish: EventEngine['publish'],
    private readonly options: ReactionOptions,
    private readonly logger: Logger,
  ) {}

  async start(link: NatsLink): Promise<void> {
    await ensureDurable(link, this.feed.stream, consumerConfig(this.feed.durable, this.feed.filter, this.options));
    this.link = link;
    const durable = await link.js.consumers.get(this.feed.stream, this.feed.durable);
    this.messages = await durable.consume({ max_messages: this.options.inFlight, expires: PULL_EXPIRES_MS, callback: (message) => this.arrive(message) });
  }

  /**
   * Messages that arrive in one turn of the event loop are handled together: their follow-ups are
   * published, and then they are acknowledged, in one write each rather than one per message.
   */
  private arrive(message: JsMsg): void {
    this.arrived.push(message);
    if (this.handleScheduled) return;
    this.handleScheduled = true;
    setImmediate(() => {
      this.handleScheduled = false;
      const batch = this.handleBatch(this.arrived.splice(0)).finally(() => this.inFlight.delete(batch));
      this.inFlight.add(batch);
    });
  }

  private async handleBatch(messages: JsMsg[]): Promise<void> {
    const outcomes = await Promise.all(messages.map((message) => this.handle(message)));
    // Acknowledged together, in one write, once every follow-up of the batch is stored.
    outcomes.forEach((outcome, index) => outcome?.(messages[index]!));
  }

  /** Handles one message; answers how to settle it (ack, nak, term), or nothing when it is settled already. */
  private async handle(message: JsMsg): Promise<((message: JsMsg) => void) | undefined> {
    // Shutting down: another replica takes it now rather than after the ack wait.
    if (!this.consumer.ready) return (m) => m.nak();
    const carried = this.feed.eventOf(message);
    if (carried && 'refused' in carried) {
      this.logger.warn({ seq: message.seq, subject: message.subject, reason: carried.refused }, `refused an event: ${carried.refused}`);
      return (m) => m.ack();
    }
    if (!carried || !this.consumer.handlers.reactsTo.includes(carried.delivered.event.type)) return (m) => m.ack();
    const { delivered, stored } = carried;
    // This replica's state must have taken the event in first (its live feed is a consumer of its own).
    const seq = delivered.context.seq;
    if (this.consumer.handlers.applies.length > 0 && seq !== undefined && !(await this.consumer.whenAt(seq, this.options.ackWaitMs / 2))) {
      return (m) => m.nak();
    }
    if (this.options.holdMs) await this.whileWorking(message, () => new Promise((resolve) => setTimeout(resolve, this.options.holdMs)));
    let outgoing;
    try {
      outgoing = this.consumer.react(delivered);
    } catch (error) {
      await this.refused(message, delivered, stored, error instanceof Error ? error.message : String(error));
      return undefined;
    }
    try {
      // A publish may wait out a leader's election (NATS_PUBLISH_WAIT_MS, longer than the ack wait): the
      // message stays this replica's meanwhile, rather than going to another and costing a delivery.
      await this.whileWorking(message, () => Promise.all(outgoing.map(({ event, id, requestId }) => this.publish(event, { id, requestId }))));
      return (m) => m.ack();
    } catch (error) {
      const reason = `could not store its follow-ups: ${error instanceof Error ? error.message : String(error)}`;
      // Not the event's fault; but on its last delivery NATS would drop it: parked instead, to be sent back.
      if (message.info.deliveryCount >= this.options.maxDeliveries) {
        await this.refused(message, delivered, stored, reason);
        return undefined;
      }
      this.logger.warn({ err: error, seq: message.seq }, 'could not store the follow-ups of an event; it is delivered again');
      return (m) => m.nak(this.options.ackWaitMs);
    }
  }

  /** Runs `work`, telling the server now and then that this replica still works on the message, so it is not given to another. */
  private async whileWorking<T>(message: JsMsg, work: () => Promise<T>): Promise<T> {
    const keepAlive = setInterval(() => message.working(), Math.max(100, this.options.ackWaitMs / 2));
    try {
      return await work();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async refused(message: JsMsg, delivered: Delivered, stored: unknown, reason: string): Promise<void> {
    const attempts = message.info.deliveryCount;
    const seq = delivered.context.seq ?? message.seq;
    if (attempts < this.options.maxDeliveries) {
      this.logger.warn({ seq, type: delivered.event.type, attempts, reason }, 'an event was refused; it is delivered again later');
      message.nak(backoffSteps(this.options)[attempts - 1] ?? this.options.retryMaxMs);
      return;
    }
    try {
      await parkDeadLetter(this.link!, {
        consumer: this.name,
        event: stored,
        seq,
        id: delivered.context.id ?? '',
        type: delivered.event.type,
        attempts,
        reason,
        parkingId: this.feed.parkingId(message, delivered),
      });
      this.logger.error({ seq, type: delivered.event.type, attempts, reason }, 'an event was refused too often; parked as a dead letter');
      message.term();
    } catch (error) {
      this.logger.error({ err: error, seq: message.seq }, 'could not park a dead letter; it is delivered again');
      message.nak(this.options.retryMaxMs);
    }
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await Promise.all(this.inFlight);
  }
}
