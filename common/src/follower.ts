import type { BusClient } from './busClient';
import { isKnownEventType, knownEventSchema } from './events';
import type { EventHandler } from './receiver';

/**
 * Rebuilds a service's state from the bus's log, page by page, and remembers how far it got. Handlers
 * are idempotent, so reading an event that was also delivered is harmless.
 */
export class LogFollower {
  private applied = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly bus: BusClient,
    private readonly handle: EventHandler,
    private readonly pageSize = 5000,
  ) {}

  /** Highest seq this service has applied; everything at or below it has been applied too. */
  get position(): number {
    return this.applied;
  }

  /** Deliveries arrive in order with no gaps, so the newest delivered seq is also a safe position. */
  noteDelivered(seq: number): void {
    if (seq > this.applied) this.applied = seq;
  }

  /** Reads the log from the current position to its end; concurrent callers share one read. */
  catchUp(): Promise<void> {
    if (!this.running) {
      this.running = this.readToEnd().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async readToEnd(): Promise<void> {
    for (;;) {
      const page = await this.bus.readEvents(this.applied, this.pageSize);
      for (const stored of page) {
        if (stored.seq <= this.applied) continue;
        if (isKnownEventType(stored.type)) {
          const parsed = knownEventSchema.safeParse({ type: stored.type, data: stored.data });
          // The bus validates known types on publish, so a failure here means an older, looser log entry.
          if (parsed.success) {
            // Replaying publishes nothing (handlers return no follow-ups when not live).
            this.handle(parsed.data, { id: stored.id, seq: stored.seq, live: false });
          }
        }
        this.applied = stored.seq;
      }
      if (page.length < this.pageSize) return;
    }
  }
}
