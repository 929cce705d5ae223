import type { LogRow } from '../eventLog';

/**
 * The newest stored events, kept in memory so that delivery loops that keep up never wait for the
 * database. Consecutive by seq, about `size` of them (up to twice that between trims).
 */
export class RecentEvents {
  private rows: LogRow[] = [];

  constructor(private readonly size: number) {}

  add(rows: LogRow[]): void {
    if (rows.length === 0) return;
    const newest = this.rows[this.rows.length - 1];
    // A gap (rows stored by a thread that crashed before answering) would break the seq arithmetic below.
    if (newest && rows[0]!.seq !== newest.seq + 1) this.rows = [];
    this.rows.push(...rows);
    if (this.rows.length > this.size * 2) this.rows = this.rows.slice(-this.size);
  }

  /** The page after `after`, or undefined when it starts before the oldest event held. */
  after(after: number, limit: number): LogRow[] | undefined {
    const oldest = this.rows[0]?.seq;
    if (oldest === undefined || after < oldest - 1) return undefined;
    const start = after - oldest + 1;
    return this.rows.slice(start, start + limit);
  }

  one(seq: number): LogRow | undefined {
    const oldest = this.rows[0]?.seq;
    return oldest === undefined ? undefined : this.rows[seq - oldest];
  }

  clear(): void {
    this.rows = [];
  }
}
