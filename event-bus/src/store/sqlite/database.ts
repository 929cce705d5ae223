/** The log's SQLite database, used only by its own thread (see thread.ts). */
import Database from 'better-sqlite3';
import type { Envelope } from '@blog/contracts';
import type { AppendResult } from '../eventLog';
import type { DeadLetter } from '../subscriberState';
import type { RawRow } from './packedRows';
import type { OpenedState, StateRequest } from './protocol';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (source, id)
  );
  CREATE TABLE IF NOT EXISTS positions (
    subscriber TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS dead_letters (
    subscriber TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    parked_at TEXT NOT NULL,
    PRIMARY KEY (subscriber, seq)
  );
`;

export type LogDatabase = ReturnType<typeof openLogDatabase>;

/** Opens (creating if need be) the log in WAL mode with synchronous=FULL: a commit is on disk when it returns. */
export function openLogDatabase(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA);
  const insertEvent = db.prepare<[number, string, string, string, string]>(
    'INSERT INTO events (seq, source, id, type, body) VALUES (?, ?, ?, ?, ?)',
  );
  const findEvent = db.prepare<[string, string], { seq: number }>('SELECT seq FROM events WHERE source = ? AND id = ?');
  // Raw rows ([seq, type, body]) are packed for the main thread without making an object per row.
  const selectAfter = db.prepare<[number, number], RawRow>('SELECT seq, type, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?').raw(true);
  const selectOne = db.prepare<[number], RawRow>('SELECT seq, type, body FROM events WHERE seq = ?').raw(true);
  const upsertPosition = db.prepare<[string, number]>(
    'INSERT INTO positions (subscriber, seq) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE SET seq = excluded.seq',
  );
  const insertDeadLetter = db.prepare<[string, number, string, string, number, string, string]>(
    `INSERT OR REPLACE INTO dead_letters (subscriber, seq, id, type, attempts, last_error, parked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteDeadLetter = db.prepare<[string, number]>('DELETE FROM dead_letters WHERE subscriber = ? AND seq = ?');
  let last = db.prepare<[], { last: number | null }>('SELECT MAX(seq) AS last FROM events').get()?.last ?? 0;

  /** Stores every group in one transaction (one fsync); a repeated (source, id) answers its stored seq. */
  const storeGroups = db.transaction((groups: Envelope[][], stored: RawRow[]): AppendResult[][] => {
    const storedNow = new Map<string, AppendResult>();
    return groups.map((envelopes) =>
      envelopes.map((envelope) => {
        const key = `${envelope.source}\u0000${envelope.id}`;
        const earlier = storedNow.get(key) ?? findEvent.get(envelope.source, envelope.id);
        if (earlier) return { id: envelope.id, seq: earlier.seq, duplicate: true };
        const seq = last + stored.length + 1;
        const body = JSON.stringify({ ...envelope, seq });
        insertEvent.run(seq, envelope.source, envelope.id, envelope.type, body);
        stored.push([seq, envelope.type, body]);
        const result = { id: envelope.id, seq, duplicate: false };
        storedNow.set(key, result);
        return result;
      }),
    );
  });
  const savePositions = db.transaction((entries: [string, number][]) => {
    for (const [subscriber, seq] of entries) upsertPosition.run(subscriber, seq);
  });

  return {
    openedState(): OpenedState {
      const positions = db.prepare<[], { subscriber: string; seq: number }>('SELECT subscriber, seq FROM positions').all();
      const deadLetters = db
        .prepare<[], DeadLetter>(
          `SELECT subscriber, seq, id, type, attempts, last_error AS lastError, parked_at AS parkedAt
           FROM dead_letters ORDER BY subscriber, seq`,
        )
        .all();
      return { lastSeq: last, positions: positions.map((row) => [row.subscriber, row.seq]), deadLetters };
    },
    /** All groups or none; answers each group's results and the rows it stored. */
    append(groups: Envelope[][]): { results: AppendResult[][]; stored: RawRow[] } {
      const stored: RawRow[] = [];
      const results = storeGroups(groups, stored);
      last += stored.length;
      return { results, stored };
    },
    readAfter: (after: number, limit: number): RawRow[] => selectAfter.all(after, limit),
    readOne: (seq: number): RawRow[] => selectOne.all(seq),
    saveState(request: StateRequest): void {
      if (request.kind === 'positions') savePositions(request.entries);
      else if (request.kind === 'park') {
        const { subscriber, seq, id, type, attempts, lastError, parkedAt } = request.letter;
        insertDeadLetter.run(subscriber, seq, id, type, attempts, lastError, parkedAt);
      } else deleteDeadLetter.run(request.subscriber, request.seq);
    },
    close(): void {
      db.close();
    },
  };
}
