import { FOLLOW_UPS_HEADER, FOLLOW_UPS_IN_ANSWER, HttpTransport, busAuthHeaders, type Logger } from '@blog/common';
import type { DeliveryObserver } from '../busMetrics';
import type { DeadLetter, EventLog } from '../store/eventLog';
import { SubscriberDelivery, type DeliveryOptions, type SubscriberStatus } from './subscriberDelivery';

/** How often delivered positions are written down. Losing the last interval only means redelivery. */
const POSITION_FLUSH_MS = 200;

/** Runs one delivery loop per subscriber and keeps their positions on disk. */
export class DeliveryHub {
  private readonly deliveries: SubscriberDelivery[];
  private readonly http: HttpTransport;
  private readonly dirty = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    subscribers: string[],
    private readonly log: EventLog,
    options: DeliveryOptions,
    private readonly logger: Logger,
    busToken?: string,
    observer?: DeliveryObserver,
  ) {
    const positions = log.loadPositions();
    const parked = log.loadDeadLetters();
    this.http = new HttpTransport(options.timeoutMs, {
      headers: { ...busAuthHeaders(busToken), [FOLLOW_UPS_HEADER]: FOLLOW_UPS_IN_ANSWER },
    });
    this.deliveries = subscribers.map(
      (url) =>
        new SubscriberDelivery(
          url,
          positions.get(url) ?? 0,
          log,
          this.http,
          options,
          (u, p) => this.remember(u, p),
          logger,
          parked.filter((letter) => letter.subscriber === url),
          observer,
        ),
    );
  }

  deadLetters(): DeadLetter[] {
    return this.deliveries.flatMap((delivery) => delivery.deadLetters());
  }

  /** Delivers parked events again: all of them, one subscriber's, or one event; answers how many. */
  retryDeadLetters(filter: { subscriber?: string; seq?: number }): number {
    return this.deliveries
      .filter((delivery) => filter.subscriber === undefined || delivery.url === filter.subscriber)
      .reduce((count, delivery) => count + delivery.retry(filter.seq), 0);
  }

  start(): void {
    this.unsubscribe = this.log.onAppend(() => {
      for (const delivery of this.deliveries) delivery.notify();
    });
    for (const delivery of this.deliveries) delivery.start();
    this.logger.info({ subscribers: this.deliveries.map((d) => d.url) }, 'delivering events');
  }

  status(): SubscriberStatus[] {
    return this.deliveries.map((delivery) => delivery.status());
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all(this.deliveries.map((delivery) => delivery.stop()));
    this.flushPositions();
    await this.http.close();
  }

  private remember(url: string, position: number): void {
    this.dirty.set(url, position);
    this.flushTimer ??= setTimeout(() => this.flushPositions(), POSITION_FLUSH_MS);
  }

  private flushPositions(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.dirty.size === 0) return;
    const positions = new Map(this.dirty);
    this.dirty.clear();
    this.log.savePositions(positions);
  }
}
