import { describeHttpFailure, isSuccess, type HttpTransport, type Logger } from '@blog/common';
import { z } from 'zod';
import type { EventLog, LogRow } from '../store/eventLog';
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
}

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
}

/**
 * Delivers the log to one subscriber, in order, from its stored position. Each subscriber has its own
 * loop, so a slow or dead one delays only itself. A batch counts as delivered only on a 2xx answer.
 */
export class SubscriberDelivery {
  private stopped = false;
  private wake: (() => void) | null = null;
  private inFlight: AbortController | null = null;
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

  constructor(
    readonly url: string,
    private currentPosition: number,
    private readonly log: EventLog,
    private readonly http: HttpTransport,
    private readonly options: DeliveryOptions,
    private readonly onDelivered: (url: string, position: number) => void,
    private readonly logger: Logger,
  ) {}

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
    this.inFlight?.abort();
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
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const rows = this.log.readAfter(this.currentPosition, this.options.batchSize);
      if (rows.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      // Asked just before delivering, not at start: a subscriber that is not up yet cannot answer.
      const reachable = !this.needsInterests || (await this.askInterests());
      const wanted = this.wanted;
      const batch = wanted ? rows.filter((row) => wanted.has(row.type)) : rows;
      if (reachable && (batch.length === 0 || (await this.deliver(batch)))) {
        this.advance(rows[rows.length - 1]!.seq, batch.length);
      } else {
        this.failures += 1;
        this.totalFailures += 1;
        // The subscriber may come back as a new version that handles other types: ask again.
        this.needsInterests = true;
        await this.pause(backoffDelay(this.failures, this.options.retryBaseMs, this.options.retryMaxMs));
      }
    }
  }

  /** Everything up to `seq` is delivered (or of no interest to this subscriber). */
  private advance(seq: number, delivered: number): void {
    this.currentPosition = seq;
    this.failures = 0;
    if (delivered > 0) {
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

  private async deliver(rows: LogRow[]): Promise<boolean> {
    // With a batch size of 1 the body is the bare event, as course-style subscribers expect.
    const body = this.options.batchSize === 1 ? rows[0]!.body : `[${rows.map((row) => row.body).join(',')}]`;
    this.inFlight = new AbortController();
    try {
      const answer = await this.http.send('POST', this.url, body, this.inFlight.signal);
      if (isSuccess(answer.status)) return true;
      this.recordFailure(`answered ${answer.status}`);
    } catch (error) {
      this.recordFailure(describeHttpFailure(error));
    } finally {
      this.inFlight = null;
    }
    return false;
  }

  private recordFailure(reason: string): void {
    this.lastError = reason;
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
