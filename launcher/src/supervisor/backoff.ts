/** How long a crashed process waits before it is started again. */
export interface BackOffPolicy {
  /** The wait after the first crash. */
  initialMs: number;
  /** The longest wait: each crash doubles the last one up to this. */
  maxMs: number;
  /** A process that stayed ready this long before it crashed starts the count over. */
  resetAfterMs: number;
}

/**
 * Kubernetes' CrashLoopBackOff (10 s doubling to 5 min, reset after 10 min of running), scaled to a
 * laptop: a service that crashes once is back within a second, one that crashes at every start does
 * not spin the CPU, and one that ran fine for a while is not punished for crashes long past.
 */
export const LOCAL_BACKOFF: BackOffPolicy = { initialMs: 500, maxMs: 10_000, resetAfterMs: 10_000 };

/** The wait before each restart of one process; pure arithmetic, so the policy is tested without processes. */
export class CrashLoopBackOff {
  private crashes = 0;

  constructor(private readonly policy: BackOffPolicy = LOCAL_BACKOFF) {}

  /** The wait before the next start, for a process that crashed after being ready for `readyMs` (0 if it never was). */
  next(readyMs: number): number {
    if (readyMs >= this.policy.resetAfterMs) this.crashes = 0;
    // Capped before it is used as an exponent, so a process crashing for days never overflows the arithmetic.
    const exponent = Math.min(this.crashes, 30);
    this.crashes += 1;
    return Math.min(this.policy.initialMs * 2 ** exponent, this.policy.maxMs);
  }
}
