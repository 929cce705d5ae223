/**
 * What the deliveries report (counts and lag per subscriber) and the shelf refused events are parked on.
 */
import { type EngineName, parsedOrNull } from '@blog/contracts';
import type { Logger } from '@blog/service-kit';
import type { LogRow } from '../store/eventLog';
import type { DeadLetter, SubscriberState } from '../store/subscriberState';

/** Told by each delivery loop what happened; the metrics count it. */
export interface DeliveryObserver {
  delivered(subscriber: string, events: number): void;
  failed(subscriber: string): void;
  retried(subscriber: string): void;
  parked(subscriber: string): void;
}

/** The counters of SubscriberStatus, in its order. */
export interface DeliveryCounts {
  consecutiveFailures: number;
  /** Successful delivery requests, and the events they carried. */
  deliveries: number;
  eventsDelivered: number;
  /** Times the loop backed off (a failed delivery, or the subscriber could not be asked what it handles). */
  failures: number;
  lastError: string | null;
  lastSuccessAt: string | null;
}

/** What GET /subscribers shows of one subscriber. */
export interface SubscriberStatus extends DeliveryCounts {
  /** The service it is (its SUBSCRIBERS name; a NATS durable consumer's own), or null for an unnamed URL. */
  name: string | null;
  /** Which engine carries the events: a reader (the flow page) need not guess it from the names. */
  engine: EngineName;
  url: string;
  position: number;
  lag: number;
  /** Event types delivered to it, or null for all. */
  types: string[] | null;
  /** Events parked after being refused maxAttempts times (see GET /dead-letters). */
  deadLettered: number;
}

export interface DeliveryStatsOptions {
  subscriber: string;
  logger: Logger;
  observer?: DeliveryObserver;
}

/** One subscriber's delivery counters; passes each event on to the observer and logs failures sparingly. */
export class DeliveryStats {
  private readonly subscriber: string;
  private readonly logger: Logger;
  private readonly observer?: DeliveryObserver;
  private counts: DeliveryCounts = {
    consecutiveFailures: 0,
    deliveries: 0,
    eventsDelivered: 0,
    failures: 0,
    lastError: null,
    lastSuccessAt: null,
  };

  constructor({ subscriber, logger, observer }: DeliveryStatsOptions) {
    this.subscriber = subscriber;
    this.logger = logger;
    this.observer = observer;
  }

  get consecutiveFailures(): number {
    return this.counts.consecutiveFailures;
  }

  snapshot(): DeliveryCounts {
    return { ...this.counts };
  }

  /** A delivery is made again after a failure or refusal. */
  retrying(): void {
    this.observer?.retried(this.subscriber);
  }

  failed(reason: string, position: number): void {
    this.counts.lastError = reason;
    this.observer?.failed(this.subscriber);
    // One line per outage, not per retry: the first failure and then every tenth.
    if (this.counts.consecutiveFailures % 10 === 0) {
      this.logger.warn({ subscriber: this.subscriber, position, reason }, 'delivery failed; will retry');
    }
  }

  backedOff(): void {
    this.counts.consecutiveFailures += 1;
    this.counts.failures += 1;
  }

  /** The loop moved on (delivered, skipped, parked, or a parked event went through). */
  movedOn(): void {
    this.counts.consecutiveFailures = 0;
  }

  delivered(events: number, at = new Date()): void {
    this.observer?.delivered(this.subscriber, events);
    this.counts.deliveries += 1;
    this.counts.eventsDelivered += events;
    this.counts.lastSuccessAt = at.toISOString();
  }
}

export interface DeadLetterShelfOptions {
  subscriber: string;
  state: SubscriberState;
  logger: Logger;
  /** What was parked for this subscriber when the bus started. */
  parked?: DeadLetter[];
  observer?: Pick<DeliveryObserver, 'parked'>;
}

/**
 * One subscriber's parked events: those it refused too often, set aside so the rest of the log could
 * flow, kept until someone asks for them to be delivered again.
 */
export class DeadLetterShelf {
  private readonly subscriber: string;
  private readonly state: SubscriberState;
  private readonly logger: Logger;
  private readonly observer?: Pick<DeliveryObserver, 'parked'>;
  private readonly parked = new Map<number, DeadLetter>();
  /** Parked events asked to be delivered again, oldest request first. */
  private readonly retryQueue: number[] = [];

  constructor({ subscriber, state, logger, parked = [], observer }: DeadLetterShelfOptions) {
    this.subscriber = subscriber;
    this.state = state;
    this.logger = logger;
    this.observer = observer;
    for (const letter of parked) this.parked.set(letter.seq, letter);
  }

  get size(): number {
    return this.parked.size;
  }

  list(): DeadLetter[] {
    return [...this.parked.values()];
  }

  park(row: LogRow, attempts: number, lastError: string): void {
    const stored = parsedOrNull(row.body) as { id?: unknown } | null;
    const letter: DeadLetter = {
      subscriber: this.subscriber,
      seq: row.seq,
      id: typeof stored?.id === 'string' ? stored.id : '',
      type: row.type,
      attempts,
      lastError,
      parkedAt: new Date().toISOString(),
    };
    this.parked.set(row.seq, letter);
    this.state.park(letter);
    this.observer?.parked(this.subscriber);
    this.logger.error(
      { subscriber: this.subscriber, seq: row.seq, type: row.type, attempts, reason: lastError },
      'subscriber keeps refusing an event; parked it as a dead letter and went on (POST /dead-letters/retry to try again)',
    );
  }

  /** Takes parked events (all, or the one at `seq`) off the shelf to be delivered again; answers how many. */
  takeForRetry(seq?: number): number {
    const chosen = seq === undefined ? [...this.parked.keys()] : this.parked.has(seq) ? [seq] : [];
    for (const parkedSeq of chosen) {
      this.parked.delete(parkedSeq);
      this.state.unpark(this.subscriber, parkedSeq);
      this.retryQueue.push(parkedSeq);
    }
    return chosen.length;
  }

  /** The seq of the next event to deliver again, if any. */
  nextRetry(): number | undefined {
    return this.retryQueue[0];
  }

  /** The event from nextRetry() was delivered, or parked again. */
  retryDone(): void {
    this.retryQueue.shift();
  }
}
