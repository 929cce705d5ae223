import { READY_GRACE_MS, ServerNotAnsweringError, type EventEngine, type Subscription } from '@blog/contracts';
import { describeEngineFailure } from './engines/httpEngine';
import type { ReadinessProblem } from './operations';
import type { Logger } from './logger';
import type { EventReceiver } from './receiver';

/** How often the log's end is asked for. */
const SAMPLE_EVERY_MS = 500;
/**
 * A replica behind the log that has not moved for this long has a feed that stopped (its server gone, a
 * subscriber the bus cannot deliver to): it reads the log itself and has its feed made again.
 */
const STALL_MS = 1_000;
/** How long the log's end may stay out of reach before the replica says so. */
const UNREACHABLE_AFTER_MS = 3_000;

/**
 * Where a replica stands against the log. `unreachable`: the engine cannot be asked where the log ends.
 * The replica stays ready then and says so: it cannot tell whether it alone is cut off or every
 * replica is, and when every replica is, readiness withdrawn from all of them would turn a delayed view
 * into no view at all (the design's rule: a service that is down delays the others, never breaks them).
 */
export type FeedState = { state: 'following' } | { state: 'behind' | 'unreachable'; detail: string };

/**
 * Keeps a replica's readiness true to its state: every half second it asks the engine where the log ends
 * and compares that with how far the replica has applied it. A replica that keeps state is behind when
 * it lacks what the log held at its first look of the last READY_GRACE_MS (after a gap in its looks,
 * the first look after the gap: the log may have held that all along; with no look in that time, its
 * newest look); the engine may also report a feed of its own stalled (a durable consumer that hands
 * nothing out). One that is behind and not moving heals itself: it reads the log up to its end and asks
 * the engine to make its live feed again.
 */
export class FeedWatch {
  private readonly samples: { at: number; logEnd: number }[] = [];
  private passed = 0;
  private reachedAt = Date.now();
  private lastFailure = '';
  /** The last look failed because this process's own server does not answer (others may reach the log). */
  private serverHung = false;
  private lastPosition = -1;
  private movedAt = Date.now();
  private reported: FeedState['state'] = 'following';
  private healing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly engine: EventEngine,
    private readonly receiver: EventReceiver,
    private readonly subscription: Subscription | null,
    private readonly logger: Logger,
    private readonly graceMs = READY_GRACE_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The replica's position: its own, or what the engine has passed for it, whichever is further. */
  private get position(): number {
    return Math.max(this.receiver.position, this.passed);
  }

  /**
   * The first look at the log's end taken within the last `ms`, or null when none was. The log
   * held at least that much for all of those `ms` that come after the look; a look from before a gap
   * (its server hung, the log out of reach) would understate what the log took during the gap.
   */
  private firstLookWithin(ms: number): { at: number; logEnd: number } | null {
    const since = Date.now() - ms;
    return this.samples.find((sample) => sample.at >= since) ?? null;
  }

  state(): FeedState {
    if (Date.now() - this.reachedAt > UNREACHABLE_AFTER_MS && this.serverHung) {
      return { state: 'behind', detail: `its server has not answered since ${new Date(this.reachedAt).toISOString()} (${this.lastFailure}); the client leaves it for another within seconds` };
    }
    if (Date.now() - this.reachedAt > UNREACHABLE_AFTER_MS) {
      return { state: 'unreachable', detail: `the event log has been out of reach since ${new Date(this.reachedAt).toISOString()} (${this.lastFailure}); serving the view as of seq ${this.position}` };
    }
    // With no look in the grace (its timer fired late), the newest look still holds: the log held that
    // much for longer than the grace.
    const look = this.receiver.replays ? (this.firstLookWithin(this.graceMs) ?? this.samples.at(-1) ?? null) : null;
    if (look !== null && this.position < look.logEnd) {
      return { state: 'behind', detail: `it has applied the log up to seq ${this.position}, but the log already held seq ${look.logEnd} ${((Date.now() - look.at) / 1000).toFixed(1)} s ago` };
    }
    return this.subscription?.health?.() ?? { state: 'following' };
  }

  /** Why the replica must not be sent traffic, for /readyz: only when behind. */
  problem(): ReadinessProblem | null {
    const now = this.state();
    if (now.state !== 'behind') return null;
    return { status: 'behind', problems: [now.detail], action: 'None needed: it reads the log and makes its live feed again by itself; if it stays behind, its log says why.' };
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    try {
      const { logEnd, passed } = await this.engine.feedPosition();
      this.passed = passed;
      this.reachedAt = now;
      this.serverHung = false;
      this.samples.push({ at: now, logEnd });
      while (this.samples[0]!.at < now - this.graceMs) this.samples.shift();
    } catch (error) {
      this.lastFailure = describeEngineFailure(error);
      // Until it reaches the log again: a client that leaves a hung server is out of reach for a moment,
      // and that must not make a replica that is behind look like one serving through an outage.
      this.serverHung ||= error instanceof ServerNotAnsweringError;
    }
    if (this.position !== this.lastPosition) {
      this.lastPosition = this.position;
      this.movedAt = now;
    }
    const stalledLook = this.receiver.replays ? this.firstLookWithin(STALL_MS) : null;
    if (stalledLook !== null && this.position < stalledLook.logEnd && now - this.movedAt >= STALL_MS) void this.heal();
    this.report();
  }

  /** One log line when the replica falls behind, loses the log, or is back. */
  private report(): void {
    const now = this.state();
    if (now.state === this.reported) return;
    this.reported = now.state;
    if (now.state === 'following') this.logger.info('following the event log again');
    else if (now.state === 'behind') this.logger.error({ feed: now.detail }, `behind the event log, not ready: ${now.detail}`);
    else this.logger.warn({ feed: now.detail }, `cannot reach the event log; still serving what it holds: ${now.detail}`);
  }

  private heal(): Promise<void> {
    // An engine that keeps the feed itself makes it again from the replica's position; otherwise (the
    // bus pushes) the replica reads the log to its end.
    this.healing ??= (this.subscription?.heal ? this.subscription.heal() : this.receiver.catchUp())
      .catch((error: unknown) => this.logger.warn({ reason: describeEngineFailure(error) }, 'could not catch up with the event log yet; trying again'))
      .finally(() => {
        this.healing = null;
        this.movedAt = Date.now();
      });
    return this.healing;
  }
}
