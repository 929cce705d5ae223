import type { Envelope } from '@blog/common';

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

/** The bus's durable state: the append-only event log and each subscriber's position in it. */
export interface EventLog {
  /**
   * Stores the events, in order and all or none, and resolves once they are durably stored (an event
   * whose source and id are already stored is answered with its stored seq). Rejects if nothing was stored.
   */
  append(envelopes: Envelope[]): Promise<AppendResult[]>;
  readAfter(after: number, limit: number): LogRow[];
  readonly lastSeq: number;
  /** Calls `listener` after each commit that stored new events; returns a function that unsubscribes. */
  onAppend(listener: () => void): () => void;
  loadPositions(): Map<string, number>;
  savePositions(positions: Map<string, number>): void;
  /** Commits what is queued, then closes. */
  close(): Promise<void>;
}
