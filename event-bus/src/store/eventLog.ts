/**
 * What a log is to the bus, the newest rows it keeps in memory for the deliveries, the packed form rows
 * cross between threads in, and the wakeup a delivery loop waits on for new rows.
 */
import { READ_PAGE_MAX_BYTES, type Envelope } from '@blog/contracts';

export interface AppendResult {
  id: string;
  seq: number;
  /** true when an event with the same source and id was already in the log. */
  duplicate: boolean;
}

export interface LogRow {
  seq: number;
  type: string;
  /** The stored event as JSON text, `seq` included, ready to send as it is. */
  body: string;
}

/** The append-only event log: the bus's source of truth. */
export interface EventLog {
  /**
   * Stores the events durably, in order and all or none, and resolves once they are stored. An event
   * whose source and id are already stored (earlier, or earlier in the same call) is not stored again:
   * it is answered with its stored seq. Rejects if nothing was stored.
   */
  append(envelopes: Envelope[]): Promise<AppendResult[]>;
  /**
   * Up to `limit` stored events with a seq above `after`, in order, and no more of them than fit in
   * READ_PAGE_MAX_BYTES (always at least one): a page is never built as one giant answer.
   */
  readAfter(after: number, limit: number): Promise<LogRow[]>;
  /** One stored event by seq, if there is one. */
  readOne(seq: number): Promise<LogRow | undefined>;
  /** The seq of the newest stored event; 0 while the log is empty. */
  readonly lastSeq: number;
  /** Calls `listener` after each append that stored new events; returns a function that unsubscribes. */
  onAppend(listener: () => void): () => void;
}

/** The first rows of a page that fit in READ_PAGE_MAX_BYTES of bodies, and always the first row. */
export function withinPageBytes<Row extends { body: string }>(rows: readonly Row[]): Row[] {
  let bytes = 0;
  for (let index = 0; index < rows.length; index += 1) {
    bytes += rows[index]!.body.length;
    if (bytes > READ_PAGE_MAX_BYTES && index > 0) return rows.slice(0, index);
  }
  return rows as Row[];
}

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

/**
 * Rows as they cross between threads: the texts joined into two strings and the numbers in typed arrays.
 * Copying two long strings and moving three buffers costs a fraction of cloning a thousand small
 * objects, which made pages read through the thread nearly twice as slow as reading on the main thread.
 */
export interface PackedRows {
  seqs: Float64Array;
  types: string;
  typeEnds: Uint32Array;
  bodies: string;
  bodyEnds: Uint32Array;
}

/** A stored event as the database answers it with rows as arrays: no object per row. */
export type RawRow = [seq: number, type: string, body: string];

export function packRows(rows: readonly RawRow[]): PackedRows {
  const seqs = new Float64Array(rows.length);
  const typeEnds = new Uint32Array(rows.length);
  const bodyEnds = new Uint32Array(rows.length);
  const types: string[] = [];
  const bodies: string[] = [];
  let typeEnd = 0;
  let bodyEnd = 0;
  rows.forEach(([seq, type, body], index) => {
    seqs[index] = seq;
    types.push(type);
    bodies.push(body);
    typeEnds[index] = typeEnd += type.length;
    bodyEnds[index] = bodyEnd += body.length;
  });
  return { seqs, types: types.join(''), typeEnds, bodies: bodies.join(''), bodyEnds };
}

/** The buffers postMessage can move instead of copying. */
export const transferablesOf = (packed: PackedRows): ArrayBuffer[] =>
  [packed.seqs.buffer, packed.typeEnds.buffer, packed.bodyEnds.buffer] as ArrayBuffer[];

export function unpackRows({ seqs, types, typeEnds, bodies, bodyEnds }: PackedRows): LogRow[] {
  const rows: LogRow[] = new Array<LogRow>(seqs.length);
  let typeStart = 0;
  let bodyStart = 0;
  for (let index = 0; index < seqs.length; index += 1) {
    const typeEnd = typeEnds[index]!;
    const bodyEnd = bodyEnds[index]!;
    rows[index] = { seq: seqs[index]!, type: types.slice(typeStart, typeEnd), body: bodies.slice(bodyStart, bodyEnd) };
    typeStart = typeEnd;
    bodyStart = bodyEnd;
  }
  return rows;
}

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
