export type RefusalVerdict = { action: 'narrow' } | { action: 'retry' } | { action: 'park'; attempts: number };

/**
 * Finds the event a subscriber refuses: a refused batch is narrowed to one event at a time until past
 * its end, and an event refused `maxAttempts` times in a row is to be parked.
 */
export class Refusals {
  /** Refusals in a row of the event the loop is stuck on. */
  private inARow = 0;
  /** While the position is below this seq, events go one at a time, so one refused event is isolated. */
  private isolateUntil = 0;

  constructor(private readonly options: { batchSize: number; maxAttempts: number }) {}

  /** How many events to send next from `position`. */
  batchLimit(position: number): number {
    return position < this.isolateUntil ? 1 : this.options.batchSize;
  }

  get any(): boolean {
    return this.inARow > 0;
  }

  /** A batch of `size` events ending at seq `last` was refused. */
  refused(size: number, last: number): RefusalVerdict {
    if (size > 1) {
      this.isolateUntil = last;
      return { action: 'narrow' };
    }
    this.inARow += 1;
    if (this.inARow < this.options.maxAttempts) return { action: 'retry' };
    const attempts = this.inARow;
    this.inARow = 0;
    return { action: 'park', attempts };
  }

  /** The event went through (or was parked): the count starts again. */
  reset(): void {
    this.inARow = 0;
  }
}
