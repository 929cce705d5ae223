import { buildEnvelope, type StoredEvent, type EventType, type KnownEvent } from './events';
import {
  EngineUnavailableError,
  type EventConsumer,
  type EventEngine,
  type FeedPosition,
  type PublishOptions,
  type PublishReceipt,
  type Subscription,
} from './engine';

/**
 * A log in memory with the embedded bus's contract: `source` + `id` is stored once, positions count from
 * 1 without gaps. Several `MemoryEngine`s can share one, so a test can wire services together.
 */
export class MemoryLog {
  readonly events: StoredEvent[] = [];
  /** Set to false to see how a service behaves while the engine is down. */
  reachable = true;
  private readonly listeners = new Set<() => void>();

  append(event: Omit<StoredEvent, 'seq'>): PublishReceipt {
    if (!this.reachable) throw new EngineUnavailableError('engine unreachable (test)');
    const existing = this.events.find((stored) => stored.source === event.source && stored.id === event.id);
    if (existing) return { id: existing.id, seq: existing.seq, duplicate: true };
    const seq = this.events.length + 1;
    this.events.push({ ...event, seq });
    for (const listener of this.listeners) listener();
    return { id: event.id, seq };
  }

  after(seq: number, limit: number): StoredEvent[] {
    if (!this.reachable) throw new EngineUnavailableError('engine unreachable (test)', 'cannot read the event log');
    return this.events.slice(seq, seq + limit);
  }

  ofType(type: EventType): StoredEvent[] {
    return this.events.filter((event) => event.type === type);
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface MemoryEngineOptions {
  log?: MemoryLog;
  /** How many times each event is handed to a subscribed consumer: 2 proves a handler is idempotent. */
  deliveries?: number;
}

/**
 * The engine in memory, for tests. It takes pushed deliveries like the embedded bus (`delivery: 'push'`:
 * a test may POST events to the service), and `subscribe` also hands events straight to the consumer,
 * storing its follow-ups as the bus would.
 */
export class MemoryEngine implements EventEngine {
  readonly delivery = 'push' as const;
  readonly log: MemoryLog;
  private readonly deliveries: number;
  private readonly subscriptions = new Set<MemorySubscription>();

  constructor(
    readonly source = '/test',
    { log = new MemoryLog(), deliveries = 1 }: MemoryEngineOptions = {},
  ) {
    this.log = log;
    this.deliveries = deliveries;
  }

  /** The stored events, oldest first. */
  get events(): StoredEvent[] {
    return this.log.events;
  }

  set reachable(reachable: boolean) {
    this.log.reachable = reachable;
  }

  ofType(type: EventType): StoredEvent[] {
    return this.log.ofType(type);
  }

  async publish(event: KnownEvent, { id, requestId }: PublishOptions = {}): Promise<PublishReceipt> {
    return this.log.append(buildEnvelope(event, this.source, id, new Date(), requestId));
  }

  async read(after: number, limit: number): Promise<StoredEvent[]> {
    return this.log.after(after, limit);
  }

  async feedPosition(): Promise<FeedPosition> {
    return { logEnd: this.log.events.at(-1)?.seq ?? 0, passed: 0 };
  }

  async subscribe(consumer: EventConsumer): Promise<Subscription> {
    const subscription = new MemorySubscription(consumer, this, this.deliveries);
    this.subscriptions.add(subscription);
    subscription.start();
    return {
      stop: async () => {
        subscription.stop();
        this.subscriptions.delete(subscription);
      },
    };
  }

  /** Resolves once every subscribed consumer has been handed the whole log. */
  async settled(): Promise<void> {
    while ([...this.subscriptions].some((subscription) => subscription.behind)) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.stop();
    this.subscriptions.clear();
  }
}

/** One consumer's position and its delivery loop: at least once, in order, its follow-ups stored first. */
class MemorySubscription {
  private position = 0;
  private scheduled: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly consumer: EventConsumer,
    private readonly engine: MemoryEngine,
    private readonly times: number,
  ) {}

  get behind(): boolean {
    return this.position < this.engine.log.events.length;
  }

  start(): void {
    this.unsubscribe = this.engine.log.onAppend(() => this.schedule(0));
    this.schedule(0);
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = null;
  }

  private schedule(ms: number): void {
    this.scheduled ??= setTimeout(() => {
      this.scheduled = null;
      this.deliverAll();
    }, ms);
  }

  private deliverAll(): void {
    if (!this.consumer.ready) return this.schedule(5);
    const log = this.engine.log;
    while (this.behind) {
      const stored = log.events[this.position]!;
      if (this.consumer.types.includes(stored.type as EventType)) {
        const delivered = { event: { type: stored.type, data: stored.data } as KnownEvent, context: { id: stored.id, seq: stored.seq, requestId: stored.requestid } };
        try {
          for (let time = 0; time < this.times; time += 1) {
            for (const outgoing of this.consumer.receive([delivered])) {
              log.append(buildEnvelope(outgoing.event, this.engine.source, outgoing.id, new Date(), outgoing.requestId));
            }
          }
        } catch {
          // Not stored: the same event is handed over again, as the bus would redeliver it.
          return this.schedule(5);
        }
      }
      this.position = stored.seq;
    }
  }
}
