import { READY_GRACE_MS, ServerNotAnsweringError, type EventEngine, type Subscription } from '@blog/contracts';
import { describeEngineFailure } from './engines/httpEngine';
import type { ReadinessProblem } from './health';
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
 * it lacks events the log held READY_GRACE_MS ago; the engine may also report a feed of its own stalled
 * (a durable consumer that hands nothing out). One that is behind and not moving heals itself: it reads
 * the log up to its end and asks the engine to make its live feed again.
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

  /** The log's end as it was at least `ms` ago (the newest sample that old), or null when none is. */
  private endAsOf(ms: number): number | null {
    const before = Date.now() - ms;
    for (let index = this.samples.length - 1; index >= 0; index -= 1) if (this.samples[index]!.at <= before) return this.samples[index]!.logEnd;
    return null;
  }

  state(): FeedState {
    if (Date.now() - this.reachedAt > UNREACHABLE_AFTER_MS && this.serverHung) {
      return { state: 'behind', detail: `its server has not answered since ${new Date(this.reachedAt).toISOString()} (${this.lastFailure}); the client leaves it for another within seconds` };
    }
    if (Date.now() - this.reachedAt > UNREACHABLE_AFTER_MS) {
      return { state: 'unreachable', detail: `the event log has been out of reach since ${new Date(this.reachedAt).toISOString()} (${this.lastFailure}); serving the view as of seq ${this.position}` };
    }
    const end = this.receiver.replays ? this.endAsOf(this.graceMs) : null;
    if (end !== null && this.position < end) {
      return { state: 'behind', detail: `it has applied the log up to seq ${this.position}, but the log held seq ${end} ${this.graceMs / 1000} s ago` };
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
      while (this.samples.length > 2 && this.samples[1]!.at <= now - this.graceMs - SAMPLE_EVERY_MS) this.samples.shift();
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
    const stalledEnd = this.receiver.replays ? this.endAsOf(STALL_MS) : null;
    if (stalledEnd !== null && this.position < stalledEnd && now - this.movedAt >= STALL_MS) void this.heal();
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
