import type { Envelope } from '@blog/contracts';
import type { AppendResult } from '../eventLog';

interface PendingAppend {
  envelopes: Envelope[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/** Appends that arrive while a commit is under way are committed together, up to about this many events. */
const MAX_GROUP_EVENTS = 2000;

/**
 * Group commit: one commit at a time; every append queued meanwhile goes into the next one, so many
 * small publishes share one fsync. `commit` hands a group over; `settled` or `failed` answers it.
 */
export class CommitQueue {
  private pending: PendingAppend[] = [];
  private inFlight: PendingAppend[] | null = null;
  private idle: (() => void)[] = [];

  constructor(private readonly commit: (groups: Envelope[][]) => void) {}

  add(envelopes: Envelope[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, resolve, reject });
      this.next();
    });
  }

  /** The commit in flight stored its groups: answers each append with its group's results. */
  settled(results: AppendResult[][]): void {
    const group = this.inFlight ?? [];
    this.inFlight = null;
    group.forEach((append, index) => append.resolve(results[index]!));
    this.next();
  }

  /** The commit in flight stored nothing. */
  failed(error: Error): void {
    const group = this.inFlight ?? [];
    this.inFlight = null;
    for (const append of group) append.reject(error);
    this.next();
  }

  /** Fails the commit in flight and everything queued (nothing of them was acknowledged). */
  failAll(error: Error): void {
    const failed = [...(this.inFlight ?? []), ...this.pending.splice(0)];
    this.inFlight = null;
    for (const append of failed) append.reject(error);
    this.next();
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (!this.inFlight && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private next(): void {
    if (this.inFlight) return;
    if (this.pending.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const group = this.takeGroup();
    this.inFlight = group;
    try {
      this.commit(group.map((append) => append.envelopes));
    } catch (error) {
      // The hand-off itself failed (data the thread cannot be sent): fail this group, keep the log going.
      this.inFlight = null;
      for (const append of group) append.reject(error);
      this.next();
    }
  }

  /** Takes whole appends, oldest first, up to about MAX_GROUP_EVENTS events (at least one append). */
  private takeGroup(): PendingAppend[] {
    let events = 0;
    let count = 0;
    while (count < this.pending.length && (count === 0 || events + this.pending[count]!.envelopes.length <= MAX_GROUP_EVENTS)) {
      events += this.pending[count]!.envelopes.length;
      count += 1;
    }
    return this.pending.splice(0, count);
  }
}
