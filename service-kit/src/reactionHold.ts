import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivered } from '@blog/contracts';

/** How long an event's first arrival is remembered after its hold ended, for a redelivery that comes late. */
const REMEMBERED_MS = 60_000;

/**
 * A service that holds its reactions (moderation's MODERATION_DELAY_MS, to watch the lag grow on the
 * flow page), on either engine: an event is reacted to no sooner than `holdMs` after it first reached
 * this process. An event delivered again while or soon after it was held (the bus gave up on a held
 * delivery after its DELIVERY_TIMEOUT_MS; NATS handed the message out again) waits only what is left of
 * its first wait, so a hold close to the engine's timeout slows the reactions down instead of stopping
 * them. The handlers never see the hold: a held comment still gets one verdict.
 */
export class ReactionHold {
  /** Event id (or seq) -> when it first arrived; oldest first, as a Map keeps its insertion order. */
  private readonly firstArrived = new Map<string, number>();

  constructor(
    readonly holdMs: number,
    /** The time and the wait (a test's fake clock). */
    private readonly clock: { now: () => number; sleep: (ms: number) => Promise<unknown> } = { now: Date.now, sleep },
  ) {}

  /** Resolves once every one of `events` has been held `holdMs` since it first arrived. */
  async wait(events: readonly Delivered[]): Promise<void> {
    if (this.holdMs <= 0 || events.length === 0) return;
    const now = this.clock.now();
    this.forgetOlderThan(now - this.holdMs - REMEMBERED_MS);
    let newest = 0;
    for (const { context } of events) {
      const key = context.id ?? (context.seq === undefined ? undefined : `seq ${context.seq}`);
      const arrived = (key === undefined ? undefined : this.firstArrived.get(key)) ?? now;
      if (key !== undefined && !this.firstArrived.has(key)) this.firstArrived.set(key, now);
      newest = Math.max(newest, arrived);
    }
    const left = newest + this.holdMs - now;
    if (left > 0) await this.clock.sleep(left);
  }

  private forgetOlderThan(time: number): void {
    for (const [key, arrived] of this.firstArrived) {
      if (arrived >= time) return;
      this.firstArrived.delete(key);
    }
  }
}
