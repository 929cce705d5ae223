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
