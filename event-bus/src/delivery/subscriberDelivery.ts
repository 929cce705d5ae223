import type { AxiosInstance } from 'axios';
import type { Logger } from '@blog/common';
import type { EventLog, LogRow } from '../store/eventLog';
import { backoffDelay } from './backoff';

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
  lastError: string | null;
  lastSuccessAt: string | null;
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
  private lastError: string | null = null;
  private lastSuccessAt: Date | null = null;

  constructor(
    readonly url: string,
    private currentPosition: number,
    private readonly log: EventLog,
    private readonly http: AxiosInstance,
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
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccessAt?.toISOString() ?? null,
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const rows = this.log.readAfter(this.currentPosition, this.options.batchSize);
      if (rows.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (await this.deliver(rows)) {
        this.currentPosition = rows[rows.length - 1]!.seq;
        this.failures = 0;
        this.lastSuccessAt = new Date();
        this.onDelivered(this.url, this.currentPosition);
      } else {
        this.failures += 1;
        await this.pause(backoffDelay(this.failures, this.options.retryBaseMs, this.options.retryMaxMs));
      }
    }
  }

  private async deliver(rows: LogRow[]): Promise<boolean> {
    // With a batch size of 1 the body is the bare event, as course-style subscribers expect.
    const body = this.options.batchSize === 1 ? rows[0]!.body : `[${rows.map((row) => row.body).join(',')}]`;
    this.inFlight = new AbortController();
    try {
      const response = await this.http.post(this.url, body, {
        timeout: this.options.timeoutMs,
        signal: this.inFlight.signal,
        // The body is already JSON text straight from the log; axios would otherwise parse it to check it.
        transformRequest: [(data: string) => data],
      });
      if (response.status >= 200 && response.status < 300) return true;
      this.recordFailure(`answered ${response.status}`);
    } catch (error) {
      this.recordFailure(error instanceof Error ? error.message : String(error));
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
