/**
 * Where a delivery loop waits: for new events, or out a backoff. wake() ends either wait at once; once
 * closed, nothing waits any more.
 */
export class Wakeup {
  private wake: (() => void) | null = null;
  private closed = false;
  /** Counts wake() calls, so a loop can tell it was woken while it was busy and not waiting. */
  private wakes = 0;

  get generation(): number {
    return this.wakes;
  }

  /** Until wake(). */
  wait(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Until `ms` have passed or wake(), whichever comes first. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wakeUp(): void {
    this.wakes += 1;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  close(): void {
    this.closed = true;
    this.wakeUp();
  }
}
