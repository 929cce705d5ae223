import { deliveredFrom, parsedOrNull, type Delivered, type FeedHealth } from '@blog/contracts';
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { NatsLink } from './connection';
import { storedDeadLetterSchema } from './deadLetters';
import { DEAD_LETTER_STREAM, EVENTS_STREAM, filterFor, retrySubjectOf } from './names';
import { eventOfMessage } from './reader';

/** A service's durable consumers: how each is configured, where it reads, and how its messages carry events. */

export interface ReactionOptions {
  /** How long a replica may hold an event unanswered before the server gives it to another. */
  ackWaitMs: number;
  /** Deliveries of one event before it is parked as a dead letter. */
  maxDeliveries: number;
  /** Longest wait between deliveries of an event that keeps failing. */
  retryMaxMs: number;
  /** Events handled at once by one replica (a held event, MODERATION_DELAY_MS, stays in its hands meanwhile). */
  inFlight: number;
}

/** Waits between redeliveries: ack wait, then doubling, up to `retryMaxMs`; one fewer than the deliveries. */
export function backoffSteps({ ackWaitMs, maxDeliveries, retryMaxMs }: ReactionOptions): number[] {
  const steps = Math.min(Math.max(maxDeliveries - 1, 0), 20);
  return Array.from({ length: steps }, (_, index) => Math.min(ackWaitMs * 2 ** index, Math.max(retryMaxMs, ackWaitMs)));
}

export function consumerConfig(name: string, filter: string, options: ReactionOptions): Partial<ConsumerConfig> {
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
export async function ensureDurable(link: NatsLink, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
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

/** How often the durable consumer is looked at. */
const LOOK_EVERY_MS = 1_000;

/**
 * Whether a service's durable consumer is being served: its events are handed out to the replicas. It is
 * stalled when events wait (pending), none is in a replica's hands (a deliberate hold, such as
 * moderation's MODERATION_DELAY_MS, keeps some there, so it is not a stall) and nothing more was handed
 * out for `graceMs`. A look that fails (no leader for the consumer yet, the server out of reach) says
 * nothing either way: the feed watch reports an engine out of reach.
 */
export class DurableHealth {
  private timer: NodeJS.Timeout | null = null;
  private delivered = -1;
  private movedAt = Date.now();
  private stalled: string | null = null;

  constructor(
    private readonly stream: string,
    private readonly durable: string,
    private readonly graceMs: number,
  ) {}

  start(link: NatsLink): void {
    this.timer ??= setInterval(
      () =>
        void this.look(link).catch(() => {
          // No answer (a leader being elected): the next answer starts the count again.
          this.delivered = -1;
        }),
      LOOK_EVERY_MS,
    );
    this.timer.unref();
  }

  health(): FeedHealth {
    return this.stalled ? { state: 'behind', detail: this.stalled } : { state: 'following' };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async look(link: NatsLink): Promise<void> {
    const info = await link.jsm.consumers.info(this.stream, this.durable);
    const now = Date.now();
    if (info.delivered.stream_seq !== this.delivered || info.num_pending === 0 || info.num_ack_pending > 0) {
      this.delivered = info.delivered.stream_seq;
      this.movedAt = now;
    }
    const waiting = now - this.movedAt;
    this.stalled =
      waiting >= this.graceMs
        ? `the durable consumer ${this.durable} has ${info.num_pending} events waiting and has handed none out for ${Math.round(waiting / 1000)} s`
        : null;
  }
}
