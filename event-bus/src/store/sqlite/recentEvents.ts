import type { LogRow } from '../eventLog';

/**
 * The newest stored events, kept in memory so that delivery loops that keep up never wait for the
 * database. Consecutive by seq, about `size` of them and `maxBytes` of their bodies (up to twice either
 * between trims).
 */
export class RecentEvents {
  private rows: LogRow[] = [];
  private bytes = 0;

  constructor(
    private readonly size: number,
    private readonly maxBytes: number,
  ) {}

  add(rows: LogRow[]): void {
    if (rows.length === 0) return;
    const newest = this.rows[this.rows.length - 1];
    // A gap (rows stored by a thread that crashed before answering) would break the seq arithmetic below.
    if (newest && rows[0]!.seq !== newest.seq + 1) this.clear();
    this.rows.push(...rows);
    for (const row of rows) this.bytes += row.body.length;
    if (this.rows.length > this.size * 2 || this.bytes > this.maxBytes * 2) this.trim();
  }

  /** Keeps the newest `size` rows, and of those no more than `maxBytes`. */
  private trim(): void {
    let keep = 0;
    let bytes = 0;
    for (let index = this.rows.length - 1; index >= 0 && keep < this.size; index -= 1) {
      if (bytes + this.rows[index]!.body.length > this.maxBytes && keep > 0) break;
      bytes += this.rows[index]!.body.length;
      keep += 1;
    }
    this.rows = this.rows.slice(-keep);
    this.bytes = bytes;
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
    this.bytes = 0;
  }
}
