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

/** An event a subscriber kept refusing, set aside so the rest of the log could flow to it. */
export interface DeadLetter {
  subscriber: string;
  seq: number;
  id: string;
  type: string;
  attempts: number;
  lastError: string;
  parkedAt: string;
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
  /** One stored event by seq, if there is one. */
  readOne(seq: number): LogRow | undefined;
  loadPositions(): Map<string, number>;
  loadDeadLetters(): DeadLetter[];
  /** Records a parked event; stored before any position saved after this call. */
  park(letter: DeadLetter): void;
  unpark(subscriber: string, seq: number): void;
  savePositions(positions: Map<string, number>): void;
  /** Commits what is queued, then closes. */
  close(): Promise<void>;
}
