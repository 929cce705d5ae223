import type { Envelope } from '@blog/contracts';
import { withinPageBytes, type AppendResult, type EventLog, type LogRow } from './eventLog';
import type { BusStorage } from './storage';
import type { DeadLetter, SubscriberState } from './subscriberState';

const dedupeKey = (envelope: Envelope) => `${envelope.source}\u0000${envelope.id}`;

/**
 * The event log in memory, with the SQLite log's contract (dedupe on source + id, order, all or none,
 * appends answered asynchronously in the order they were made), so delivery can be tested without a
 * database. Nothing survives the process.
 */
export class MemoryEventLog implements EventLog {
  private readonly rows: LogRow[] = [];
  private readonly seqByKey = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  get lastSeq(): number {
    return this.rows.length;
  }

  append(envelopes: Envelope[]): Promise<AppendResult[]> {
    // Answered on a later turn, as a real commit is: callers must not rely on a synchronous store.
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        let results: AppendResult[];
        try {
          results = this.store(envelopes);
        } catch (error) {
          reject(error);
          return;
        }
        resolve(results);
        if (results.some((result) => !result.duplicate)) for (const listener of this.listeners) listener();
      });
    });
  }

  /** Prepares every event before keeping any, so a failure (e.g. data JSON cannot hold) stores nothing. */
  private store(envelopes: Envelope[]): AppendResult[] {
    const staged = new Map<string, LogRow>();
    const results = envelopes.map((envelope) => {
      const key = dedupeKey(envelope);
      const earlier = staged.get(key)?.seq ?? this.seqByKey.get(key);
      if (earlier !== undefined) return { id: envelope.id, seq: earlier, duplicate: true };
      const seq = this.rows.length + staged.size + 1;
      staged.set(key, { seq, type: envelope.type, body: JSON.stringify({ ...envelope, seq }) });
      return { id: envelope.id, seq, duplicate: false };
    });
    for (const [key, row] of staged) {
      this.rows.push(row);
      this.seqByKey.set(key, row.seq);
    }
    return results;
  }

  readAfter(after: number, limit: number): Promise<LogRow[]> {
    return Promise.resolve(withinPageBytes(this.rows.slice(Math.max(0, after), Math.max(0, after) + limit)));
  }

  readOne(seq: number): Promise<LogRow | undefined> {
    return Promise.resolve(seq >= 1 ? this.rows[seq - 1] : undefined);
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Subscriber positions and dead letters in memory. */
export class MemorySubscriberState implements SubscriberState {
  private readonly positions = new Map<string, number>();
  private readonly parked = new Map<string, DeadLetter>();

  loadPositions(): Map<string, number> {
    return new Map(this.positions);
  }

  savePositions(positions: ReadonlyMap<string, number>): void {
    for (const [subscriber, seq] of positions) this.positions.set(subscriber, seq);
  }

  loadDeadLetters(): DeadLetter[] {
    return [...this.parked.values()]
      .sort((a, b) => (a.subscriber < b.subscriber ? -1 : a.subscriber > b.subscriber ? 1 : a.seq - b.seq))
      .map((letter) => ({ ...letter }));
  }

  park(letter: DeadLetter): void {
    this.parked.set(`${letter.subscriber}\u0000${letter.seq}`, { ...letter });
  }

  unpark(subscriber: string, seq: number): void {
    this.parked.delete(`${subscriber}\u0000${seq}`);
  }
}

/** Both in memory, for tests: `createBus(config, logger, lifecycle, openMemoryStorage)`. */
export function openMemoryStorage(): BusStorage {
  return { log: new MemoryEventLog(), subscribers: new MemorySubscriberState(), close: () => Promise.resolve() };
}
