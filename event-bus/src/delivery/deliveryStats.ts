import type { EngineName } from '@blog/contracts';
import type { Logger } from '@blog/service-kit';

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
