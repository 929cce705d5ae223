import { describeHttpFailure, type HttpTransport, type Logger } from '@blog/service-kit';
import { Wakeup, type EventLog, type LogRow } from '../store/eventLog';
import type { DeadLetter, SubscriberState } from '../store/subscriberState';
import { backoffDelay } from './backoff';
import { BatchSender, FollowUps, InterestProbe, DELIVERED, Refusals, type Outcome } from './batchSender';
import { DeadLetterShelf, DeliveryStats, type DeliveryObserver, type SubscriberStatus } from './deliveryStats';

export interface DeliveryOptions {
  batchSize: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Refusals of one event before it is parked as a dead letter. */
  maxAttempts: number;
}

export interface SubscriberDeliveryOptions {
  url: string;
  /** Its SUBSCRIBERS name, when it has one: the service it is. */
  name?: string;
  /** The last seq it was given, as stored: delivery goes on after it. */
  position: number;
  log: EventLog;
  state: SubscriberState;
  http: HttpTransport;
  delivery: DeliveryOptions;
  logger: Logger;
  /** Its events parked when the bus started. */
  parked?: DeadLetter[];
  observer?: DeliveryObserver;
  /** Everything up to `position` is delivered (or of no interest to it): to be saved. */
  onDelivered(url: string, position: number): void;
  /** With credentials: the subscriber's name, which its follow-up events are published as (and checked against). */
  publisher?: string;
}

/**
 * Delivers the log to one subscriber, in order, from its stored position. Each subscriber has its own
 * loop, so a slow or dead one delays only itself.
 */
export class SubscriberDelivery {
  readonly url: string;
  private position: number;
  private readonly log: EventLog;
  private readonly options: SubscriberDeliveryOptions;
  private readonly interests: InterestProbe;
  private readonly sender: BatchSender;
  private readonly shelf: DeadLetterShelf;
  private readonly stats: DeliveryStats;
  private readonly refusals: Refusals;
  private readonly wakeup = new Wakeup();
  /** Aborted by stop(), which ends the delivery in flight; one for the loop's life, not one per request. */
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(options: SubscriberDeliveryOptions) {
    const { url, log, http, delivery, logger, observer } = options;
    this.options = options;
    this.url = url;
    this.position = options.position;
    this.log = log;
    this.interests = new InterestProbe({ url, http });
    const followUps = new FollowUps({ log, logger, publisher: options.publisher });
    this.sender = new BatchSender({ url, http, bareSingleEvent: delivery.batchSize === 1, followUps, signal: this.stopping.signal });
    this.shelf = new DeadLetterShelf({ subscriber: url, state: options.state, logger, parked: options.parked, observer });
    this.stats = new DeliveryStats({ subscriber: url, logger, observer });
    this.refusals = new Refusals(delivery);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New events were stored: a loop waiting for them goes on. */
  notify(): void {
    this.wakeup.wakeUp();
  }

  /** Stops after the delivery in flight, if any, is answered or aborted. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeup.close();
    await this.loop;
  }

  status(): SubscriberStatus {
    return {
      name: this.options.name ?? null,
      engine: 'embedded',
      url: this.url,
      position: this.position,
      lag: Math.max(0, this.log.lastSeq - this.position),
      ...this.stats.snapshot(),
      types: this.interests.types,
      deadLettered: this.shelf.size,
    };
  }

  deadLetters(): DeadLetter[] {
    return this.shelf.list();
  }

  /** Delivers parked events again (all, or the one at `seq`); answers how many. */
  retry(seq?: number): number {
    const count = this.shelf.takeForRetry(seq);
    if (count > 0) this.notify();
    return count;
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const parkedSeq = this.shelf.nextRetry();
      try {
        if (parkedSeq === undefined) await this.deliverNext();
        else await this.redeliverParked(parkedSeq);
      } catch (error) {
        // Only the log can throw here (a read failed: damage, an I/O error). The storage has already
        // told the bus, which is no longer ready; this loop waits and reads again instead of ending.
        this.stats.failed(`cannot read the event log: ${error instanceof Error ? error.message : String(error)}`, this.position);
        await this.wakeup.sleep(this.options.delivery.retryMaxMs);
      }
    }
  }

  private async deliverNext(): Promise<void> {
    const wakes = this.wakeup.generation;
    const rows = await this.log.readAfter(this.position, this.refusals.batchLimit(this.position));
    if (rows.length === 0) {
      // Woken while reading (new events, a retry, stop): look again rather than wait for the next wake.
      if (this.wakeup.generation === wakes) await this.wakeup.wait();
      return;
    }
    // Asked just before delivering, not at start: a subscriber that is not up yet cannot answer.
    if (this.interests.needsAsking && !(await this.askInterests())) return this.backOff();
    const batch = this.interests.pick(rows);
    const last = rows[rows.length - 1]!.seq;
    const outcome = batch.length === 0 ? DELIVERED : await this.send(batch);
    if (outcome.kind === 'delivered') return this.advance(last, batch.length);
    if (outcome.kind === 'refused') {
      const verdict = this.refusals.refused(batch.length, last);
      // Somewhere in this batch is an event the subscriber refuses: go one by one to find it.
      if (verdict.action === 'narrow') return;
      if (verdict.action === 'park') {
        this.shelf.park(batch[0]!, verdict.attempts, outcome.reason);
        return this.advance(last, 0);
      }
    }
    await this.backOff();
  }

  /** Delivers a parked event alone; parks it again if it is still refused after maxAttempts tries. */
  private async redeliverParked(seq: number): Promise<void> {
    const row = await this.log.readOne(seq);
    const outcome = row ? await this.send([row]) : DELIVERED;
    if (outcome.kind === 'delivered') {
      this.shelf.retryDone();
      this.refusals.reset();
      this.stats.movedOn();
      return;
    }
    const verdict = outcome.kind === 'refused' ? this.refusals.refused(1, seq) : null;
    if (row && verdict?.action === 'park') {
      this.shelf.retryDone();
      this.shelf.park(row, verdict.attempts, outcome.reason);
      return;
    }
    await this.backOff();
  }

  private async send(rows: LogRow[]): Promise<Outcome> {
    if (this.stats.consecutiveFailures > 0 || this.refusals.any) this.stats.retrying();
    const outcome = await this.sender.send(rows);
    if (outcome.kind !== 'delivered') this.stats.failed(outcome.reason, this.position);
    return outcome;
  }

  private async askInterests(): Promise<boolean> {
    try {
      await this.interests.ask();
      return true;
    } catch (error) {
      this.stats.failed(describeHttpFailure(error), this.position);
      return false;
    }
  }

  private async backOff(): Promise<void> {
    this.stats.backedOff();
    // The subscriber may come back as a new version that handles other types: ask again.
    this.interests.forget();
    const { retryBaseMs, retryMaxMs } = this.options.delivery;
    await this.wakeup.sleep(backoffDelay(this.stats.consecutiveFailures, retryBaseMs, retryMaxMs));
  }

  /** Everything up to `seq` is delivered (or of no interest to this subscriber). */
  private advance(seq: number, delivered: number): void {
    this.position = seq;
    this.stats.movedOn();
    this.refusals.reset();
    if (delivered > 0) this.stats.delivered(delivered);
    this.options.onDelivered(this.url, seq);
  }
}
