import type { WriteAttempt } from './flow/wire';

/**
 * The newest writes passed to the services, kept for the flow page's traces: a write the page retried
 * through a restart shows every attempt and its answer. Bounded, so it costs the same however busy.
 */
export class WriteAttempts {
  private readonly kept: WriteAttempt[] = [];

  constructor(private readonly max = 100) {}

  record(attempt: WriteAttempt): void {
    this.kept.push(attempt);
    if (this.kept.length > this.max) this.kept.splice(0, this.kept.length - this.max);
  }

  /** Oldest first, as copies. */
  recent(): WriteAttempt[] {
    return this.kept.map((attempt) => ({ ...attempt }));
  }
}
