/**
 * The deliveries: one loop per subscriber, and the positions saved for them.
 */
import { FOLLOW_UPS_HEADER, FOLLOW_UPS_IN_ANSWER, HttpTransport, busAuthHeaders, type Logger } from '@blog/service-kit';
import type { EventLog } from '../store/eventLog';
import type { DeadLetter, SubscriberState } from '../store/subscriberState';
import type { DeliveryObserver, SubscriberStatus } from './deliveryStats';
import { SubscriberDelivery, type DeliveryOptions } from './subscriberDelivery';
import type { SubscriberConfig } from '../config';

export interface DeliveryHubOptions {
  /** The subscribers, in the order GET /subscribers lists them. */
  subscribers: SubscriberConfig[];
  log: EventLog;
  state: SubscriberState;
  delivery: DeliveryOptions;
  logger: Logger;
  /** Every caller's token, by name: a named subscriber's deliveries carry its own. */
  credentials?: ReadonlyMap<string, string>;
  observer?: DeliveryObserver;
}

/** Runs one delivery loop per subscriber, from the positions and dead letters stored for them, and keeps their positions saved. */
export class DeliveryHub {
  private readonly deliveries: SubscriberDelivery[];
  private readonly transports: HttpTransport[] = [];
  private readonly log: EventLog;
  private readonly logger: Logger;
  private readonly positions: PositionSaver;
  private unsubscribe: (() => void) | null = null;

  constructor({ subscribers, log, state, delivery, logger, credentials = new Map(), observer }: DeliveryHubOptions) {
    this.log = log;
    this.logger = logger;
    this.positions = new PositionSaver({ state });
    const stored = state.loadPositions();
    const parked = state.loadDeadLetters();
    // One transport per token: each subscriber is delivered to with its own credential, never another's.
    const transportFor = new Map<string | undefined, HttpTransport>();
    const transport = (token: string | undefined): HttpTransport => {
      let http = transportFor.get(token);
      if (!http) {
        http = new HttpTransport(delivery.timeoutMs, { headers: { ...busAuthHeaders(token), [FOLLOW_UPS_HEADER]: FOLLOW_UPS_IN_ANSWER } });
        transportFor.set(token, http);
        this.transports.push(http);
      }
      return http;
    };
    const named = credentials.size > 0;
    this.deliveries = subscribers.map(
      ({ url, name }) =>
        new SubscriberDelivery({
          url,
          name,
          // Unnamed with credentials configured: delivered without a token, and its follow-ups carry no rights.
          publisher: named ? (name ?? 'anonymous-subscriber') : undefined,
          position: stored.get(url) ?? 0,
          log,
          state,
          http: transport(name === undefined ? undefined : credentials.get(name)),
          delivery,
          logger,
          parked: parked.filter((letter) => letter.subscriber === url),
          observer,
          onDelivered: (subscriber, position) => this.positions.remember(subscriber, position),
        }),
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
    this.positions.flush();
    await Promise.all(this.transports.map((http) => http.close()));
  }
}

/** How often delivered positions are written down. Losing the last interval only means redelivery. */
const POSITION_FLUSH_MS = 200;

/** Collects the subscribers' new positions and saves them together, at most every `flushMs`. */
export class PositionSaver {
  private readonly state: SubscriberState;
  private readonly flushMs: number;
  private readonly dirty = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor({ state, flushMs = POSITION_FLUSH_MS }: { state: SubscriberState; flushMs?: number }) {
    this.state = state;
    this.flushMs = flushMs;
  }

  remember(subscriber: string, position: number): void {
    this.dirty.set(subscriber, position);
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Saves what is not saved yet, now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.dirty.size === 0) return;
    const positions = new Map(this.dirty);
    this.dirty.clear();
    this.state.savePositions(positions);
  }
}
