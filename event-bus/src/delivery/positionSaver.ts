import type { SubscriberState } from '../store/subscriberState';

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
