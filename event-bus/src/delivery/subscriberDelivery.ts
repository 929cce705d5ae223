import { describeHttpFailure, isSuccess, type HttpTransport, type Logger } from '@blog/common';
import { z } from 'zod';
import type { DeliveryObserver } from '../busMetrics';
import { logStored, toEnvelopes } from '../publishing';
import type { DeadLetter, EventLog, LogRow } from '../store/eventLog';
import { backoffDelay } from './backoff';

const interestsSchema = z.object({ types: z.array(z.string()) });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export interface DeliveryOptions {
  batchSize: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Refusals of one event before it is parked as a dead letter. */
  maxAttempts: number;
}

/**
 * How a delivery ended. `refused`: the subscriber answered and said no to these events (400, 413, 422,
 * 500 ...), which repeats for the same event; `unreachable`: no answer, or one that is about the
 * subscriber rather than the event: not ready, overloaded, no backend behind a proxy, or a wrong URL or
 * token (401, 403, 404), which must never park the whole log. Only refusals count towards parking.
 */
type Outcome = 'delivered' | 'refused' | 'unreachable';
const NOT_ABOUT_THE_EVENT = new Set([401, 403, 404, 405, 408, 429, 502, 503, 504]);

export interface SubscriberStatus {
  url: string;
  position: number;
  lag: number;
  consecutiveFailures: number;
  /** Successful delivery requests, and the events they carried. */
  deliveries: number;
  eventsDelivered: number;
  failures: number;
  lastError: string | null;
  lastSuccessAt: string | null;
  /** Event types delivered to it, or null for all. */
  types: string[] | null;
  /** Events parked after being refused maxAttempts times (see GET /dead-letters). */
  deadLettered: number;
}

/**
 * Delivers the log to one subscriber, in order, from its stored position. Each subscriber has its own
 * loop, so a slow or dead one delays only itself. A batch counts as delivered only on a 2xx answer.
 */
export class SubscriberDelivery {
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Aborted by stop(), which ends the delivery in flight; one for the loop's life, not one per request. */
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private failures = 0;
  private deliveries = 0;
  private eventsDelivered = 0;
  private totalFailures = 0;
  private lastError: string | null = null;
  /** The event types the subscriber said it handles; null: it did not say, so it gets every event. */
  private wanted: ReadonlySet<string> | null = null;
  private needsInterests = true;
  private lastSuccessAt: Date | null = null;
  /** Refusals in a row of the event at the head of the log (batches are narrowed to one event to find it). */
  private refusals = 0;
  /** While the position is below this seq, events go one at a time, so one refused event is isolated. */
  private isolateUntil = 0;
  private readonly parked = new Map<number, DeadLetter>();
  /** Parked events asked to be tried again, oldest request first. */
  private readonly retryQueue: number[] = [];

  constructor(
    readonly url: string,
    private currentPosition: number,
    private readonly log: EventLog,
    private readonly http: HttpTransport,
    private readonly options: DeliveryOptions,
    private readonly onDelivered: (url: string, position: number) => void,
    private readonly logger: Logger,
    parked: DeadLetter[] = [],
    private readonly observer?: DeliveryObserver,
  ) {
    for (const letter of parked) this.parked.set(letter.seq, letter);
  }

  get position(): number {
    return this.currentPosition;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New events were stored: a loop waiting for them goes on. */
  notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Stops after the delivery in flight, if any, is answered or aborted. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.notify();
    await this.loop;
  }

  status(): SubscriberStatus {
    return {
      url: this.url,
      position: this.currentPosition,
      lag: Math.max(0, this.log.lastSeq - this.currentPosition),
      consecutiveFailures: this.failures,
      deliveries: this.deliveries,
      eventsDelivered: this.eventsDelivered,
      failures: this.totalFailures,
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccessAt?.toISOString() ?? null,
      types: this.wanted ? [...this.wanted] : null,
      deadLettered: this.parked.size,
    };
  }

  deadLetters(): DeadLetter[] {
    return [...this.parked.values()];
  }

  /** Takes parked events (all, or the one at `seq`) out of the dead-letter list and delivers them again. */
  retry(seq?: number): number {
    const chosen = seq === undefined ? [...this.parked.keys()] : this.parked.has(seq) ? [seq] : [];
    for (const parkedSeq of chosen) {
      this.parked.delete(parkedSeq);
      this.log.unpark(this.url, parkedSeq);
      this.retryQueue.push(parkedSeq);
    }
    if (chosen.length > 0) this.notify();
    return chosen.length;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.retryQueue.length > 0) {
        await this.redeliverParked(this.retryQueue[0]!);
        continue;
      }
      const limit = this.currentPosition < this.isolateUntil ? 1 : this.options.batchSize;
      const rows = this.log.readAfter(this.currentPosition, limit);
      if (rows.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      // Asked just before delivering, not at start: a subscriber that is not up yet cannot answer.
      if (this.needsInterests && !(await this.askInterests())) {
        await this.backOff();
        continue;
      }
      const wanted = this.wanted;
      const batch = wanted ? rows.filter((row) => wanted.has(row.type)) : rows;
      const last = rows[rows.length - 1]!.seq;
      const outcome = batch.length === 0 ? 'delivered' : await this.deliver(batch);
      if (outcome === 'delivered') this.advance(last, batch.length);
      else if (outcome === 'refused' && batch.length > 1) {
        // Somewhere in this batch is an event the subscriber refuses: go one by one to find it.
        this.isolateUntil = last;
      } else if (outcome === 'refused' && (this.refusals += 1) >= this.options.maxAttempts) {
        this.park(batch[0]!, this.refusals);
        this.advance(last, 0);
      } else {
        await this.backOff();
      }
    }
  }

  /** Delivers a parked event alone; parks it again if it is still refused after maxAttempts tries. */
  private async redeliverParked(seq: number): Promise<void> {
    const row = this.log.readOne(seq);
    const outcome = row ? await this.deliver([row]) : 'delivered';
    if (outcome === 'delivered') {
      this.retryQueue.shift();
      this.refusals = 0;
      this.failures = 0;
      return;
    }
    if (outcome === 'refused' && (this.refusals += 1) >= this.options.maxAttempts) {
      this.retryQueue.shift();
      this.park(row!, this.refusals);
      return;
    }
    await this.backOff();
  }

  private park(row: LogRow, attempts: number): void {
    const stored = safeJson(row.body) as { id?: unknown } | null;
    const letter: DeadLetter = {
      subscriber: this.url,
      seq: row.seq,
      id: typeof stored?.id === 'string' ? stored.id : '',
      type: row.type,
      attempts,
      lastError: this.lastError ?? 'refused',
      parkedAt: new Date().toISOString(),
    };
    this.parked.set(row.seq, letter);
    this.log.park(letter);
    this.observer?.parked(this.url);
    this.refusals = 0;
    this.logger.error(
      { subscriber: this.url, seq: row.seq, type: row.type, attempts, reason: letter.lastError },
      'subscriber keeps refusing an event; parked it as a dead letter and went on (POST /dead-letters/retry to try again)',
    );
  }

  private async backOff(): Promise<void> {
    this.failures += 1;
    this.totalFailures += 1;
    // The subscriber may come back as a new version that handles other types: ask again.
    this.needsInterests = true;
    await this.pause(backoffDelay(this.failures, this.options.retryBaseMs, this.options.retryMaxMs));
  }

  /** Everything up to `seq` is delivered (or of no interest to this subscriber). */
  private advance(seq: number, delivered: number): void {
    this.currentPosition = seq;
    this.failures = 0;
    this.refusals = 0;
    if (delivered > 0) {
      this.observer?.delivered(this.url, delivered);
      this.deliveries += 1;
      this.eventsDelivered += delivered;
      this.lastSuccessAt = new Date();
    }
    this.onDelivered(this.url, this.currentPosition);
  }

  /**
   * A subscriber may answer `GET <its events URL>` with `{"types": [...]}`, the event types it handles;
   * the others are then not sent to it. One that does not answer so (a course-style service) gets all.
   * Answers false when the subscriber cannot be reached.
   */
  private async askInterests(): Promise<boolean> {
    try {
      const answer = await this.http.send('GET', this.url);
      const parsed = answer.status === 200 ? interestsSchema.safeParse(safeJson(answer.text)) : null;
      this.wanted = parsed?.success ? new Set(parsed.data.types) : null;
      this.needsInterests = false;
      return true;
    } catch (error) {
      this.recordFailure(describeHttpFailure(error));
      return false;
    }
  }

  private async deliver(rows: LogRow[]): Promise<Outcome> {
    // With a batch size of 1 the body is the bare event, as course-style subscribers expect.
    const body = this.options.batchSize === 1 ? rows[0]!.body : `[${rows.map((row) => row.body).join(',')}]`;
    if (this.failures > 0 || this.refusals > 0) this.observer?.retried(this.url);
    try {
      const answer = await this.http.send('POST', this.url, body, this.stopping.signal);
      if (isSuccess(answer.status)) return await this.storeFollowUps(answer.text);
      this.recordFailure(`answered ${answer.status}`);
      return NOT_ABOUT_THE_EVENT.has(answer.status) ? 'unreachable' : 'refused';
    } catch (error) {
      this.recordFailure(describeHttpFailure(error));
      return 'unreachable';
    }
  }

  /**
   * The events the subscriber published in reaction, carried in its answer (see FOLLOW_UPS_HEADER): the
   * delivery counts as done only once they are stored. If they cannot be stored, the delivery is made
   * again later; the subscriber derives the same ids, so nothing is stored twice.
   */
  private async storeFollowUps(answerText: string): Promise<Outcome> {
    const publish = (safeJson(answerText) as { publish?: unknown } | null)?.publish;
    if (publish === undefined || (Array.isArray(publish) && publish.length === 0)) return 'delivered';
    let envelopes;
    try {
      envelopes = toEnvelopes(publish, new Date());
    } catch (error) {
      this.recordFailure(`its answer carried follow-up events the bus does not accept (${describeHttpFailure(error)})`);
      return 'refused';
    }
    try {
      logStored(this.logger, envelopes, await this.log.append(envelopes));
      return 'delivered';
    } catch (error) {
      this.recordFailure(`could not store its follow-up events (${describeHttpFailure(error)})`);
      return 'unreachable';
    }
  }

  private recordFailure(reason: string): void {
    this.lastError = reason;
    this.observer?.failed(this.url);
    // One line per outage, not per retry: the first failure and then every tenth.
    if (this.failures % 10 === 0) {
      this.logger.warn({ subscriber: this.url, position: this.currentPosition, reason }, 'delivery failed; will retry');
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      // stop() ends the pause at once.
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
