/** The log's SQLite database, used only by its own thread (see thread.ts), and its transactions. */
import { READ_PAGE_MAX_BYTES, type Envelope } from '@blog/contracts';
import fs from 'node:fs';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { AppendResult, RawRow } from '../eventLog';
import type { DeadLetter } from '../subscriberState';
import type { OpenedState, StateRequest } from './protocol';
import { openDatabase } from './connection';
import { DATA_FOLDER_IN_USE, LogDamagedError, asDamage, damaged, isSoundRow } from './damage';
import { sqliteCodeOf } from './sqliteCodes';
import { HighWaterMark, readHighWater } from './highWater';
import { checkLog } from './logCheck';
import { arrayStatement, statement } from './statements';
import { LOG_SCHEMA } from './schema';

/** Rows as stored must be events the bus wrote; one that is not is never served. */
function soundRows(rows: RawRow[]): RawRow[] {
  for (const [seq, , body] of rows) {
    if (!isSoundRow(seq, body)) throw damaged(`the stored event at seq ${seq} is not readable as an event`);
  }
  return rows;
}

/**
 * Opens the log's database after checking it (logCheck.ts); a damaged log is not opened for writing at
 * all: it throws LogDamagedError, and the bus stays not ready until it is repaired.
 */
function openChecked(file: string): { db: DatabaseSync; lastSeq: number } {
  const dataDir = path.dirname(file);
  const highWater = readHighWater(dataDir);
  if (highWater.kind === 'at' && highWater.seq > 0 && !fs.existsSync(file)) {
    throw damaged(`the database file is gone, but seqs 1 to ${highWater.seq} were acknowledged`);
  }
  let db: DatabaseSync | null = null;
  try {
    db = openDatabase(file);
    // One bus per log: the lock is held from here until the bus closes the file (or dies: the OS frees
    // it), and another process opening the file gets SQLITE_BUSY. Set before the WAL is first used.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    takeTheLock(db);
    const { lastSeq, damage } = checkLog(db, highWater);
    if (damage) throw new LogDamagedError(damage);
    return { db, lastSeq };
  } catch (error) {
    db?.close();
    // Whichever step meets the other bus's lock first (a read, the WAL, the lock itself) says the same.
    if (sqliteCodeOf(error)?.startsWith('SQLITE_BUSY')) throw folderInUse(dataDir);
    throw asDamage(error);
  }
}

/** Another bus holds the log's folder: a plain error with a code of its own, so it crosses the thread as it is. */
function folderInUse(dataDir: string): Error {
  const error = new Error(`the data folder ${dataDir} is in use by another bus: give this one a folder of its own (DATA_DIR), or stop the other`);
  return Object.assign(error, { code: DATA_FOLDER_IN_USE });
}

/** Takes the database's exclusive lock now, at open, rather than at the first write. */
function takeTheLock(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  db.exec('COMMIT');
}

/**
 * Throws unless the database file is still the one opened and its folder and file can be written: a
 * folder deleted or a file replaced under the running bus is damage (nothing written after it would be
 * found again), one made unwritable refuses the write until it is writable again.
 */
function stillOurs(file: string, opened: fs.Stats): void {
  const gone = (what: string) =>
    new LogDamagedError({
      problems: [`the database file ${file} was ${what} while the bus ran: nothing written after that would be found again, so nothing more is acknowledged`],
      action: 'Restart the bus: it opens what the folder holds then (and checks it). Events acknowledged before this line may be gone with the old file.',
    });
  let now: fs.Stats;
  try {
    now = fs.statSync(file);
  } catch {
    throw gone('deleted');
  }
  if (now.ino !== opened.ino || now.dev !== opened.dev) throw gone('replaced');
  fs.accessSync(path.dirname(file), fs.constants.W_OK);
  fs.accessSync(file, fs.constants.W_OK);
}

export type LogDatabase = ReturnType<typeof openLogDatabase>;

/** Opens (creating if need be) the log in WAL mode with synchronous=FULL: a commit is on disk when it returns. */
export function openLogDatabase(file: string) {
  const { db, lastSeq } = openChecked(file);
  db.exec('PRAGMA synchronous = FULL');
  db.exec(LOG_SCHEMA);
  const insertEvent = statement<[number, string, string, string, string]>(
    db,
    'INSERT INTO events (seq, source, id, type, body) VALUES (?, ?, ?, ?, ?)',
  );
  const findEvent = statement<[string, string], { seq: number }>(db, 'SELECT seq FROM events WHERE source = ? AND id = ?');
  // Rows as arrays ([seq, type, body]) are packed for the main thread without making an object per row.
  const selectAfter = arrayStatement<[number, number], RawRow>(db, 'SELECT seq, type, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  const selectOne = arrayStatement<[number], RawRow>(db, 'SELECT seq, type, body FROM events WHERE seq = ?');
  const upsertPosition = statement<[string, number]>(
    db,
    'INSERT INTO positions (subscriber, seq) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE SET seq = excluded.seq',
  );
  const insertDeadLetter = statement<[string, number, string, string, number, string, string]>(
    db,
    `INSERT OR REPLACE INTO dead_letters (subscriber, seq, id, type, attempts, last_error, parked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteDeadLetter = statement<[string, number]>(db, 'DELETE FROM dead_letters WHERE subscriber = ? AND seq = ?');
  // Never below a seq once acknowledged: after a repair the next event follows the lost ones, so no
  // subscriber that holds a lost seq skips a new event as one it has seen.
  let last = lastSeq;
  const highWater = new HighWaterMark(path.dirname(file), last);
  const opened = fs.statSync(file);

  /** Stores every group in one transaction (one fsync); a repeated (source, id) answers its stored seq. */
  const storeGroups = (groups: Envelope[][], stored: RawRow[]): AppendResult[][] =>
    inTransaction(db, () => {
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
  const savePositions = (entries: [string, number][]): void =>
    inTransaction(db, () => {
      for (const [subscriber, seq] of entries) upsertPosition.run(subscriber, seq);
    });

  return {
    openedState(): OpenedState {
      const positions = arrayStatement<[], [subscriber: string, seq: number]>(db, 'SELECT subscriber, seq FROM positions').all();
      // Plain objects, not the null-prototype rows: these leave the thread and become the store's own state.
      const deadLetters = statement<[], DeadLetter>(
        db,
        `SELECT subscriber, seq, id, type, attempts, last_error AS lastError, parked_at AS parkedAt
         FROM dead_letters ORDER BY subscriber, seq`,
      )
        .all()
        .map((letter): DeadLetter => ({ ...letter }));
      return { lastSeq: last, positions, deadLetters };
    },
    /** All groups or none; answers each group's results and the rows it stored. */
    append(groups: Envelope[][]): { results: AppendResult[][]; stored: RawRow[] } {
      stillOurs(file, opened);
      const stored: RawRow[] = [];
      const results = storeGroups(groups, stored);
      last += stored.length;
      highWater.record(last);
      return { results, stored };
    },
    // Row by row, so a page of large events stops at its bytes instead of loading `limit` of them.
    readAfter: (after: number, limit: number): RawRow[] => {
      const rows: RawRow[] = [];
      let bytes = 0;
      for (const row of selectAfter.iterate(after, limit)) {
        bytes += row[2].length;
        if (bytes > READ_PAGE_MAX_BYTES && rows.length > 0) break;
        rows.push(row);
      }
      return soundRows(rows);
    },
    readOne: (seq: number): RawRow[] => soundRows(selectOne.all(seq)),
    saveState(request: StateRequest): void {
      if (request.kind === 'positions') savePositions(request.entries);
      else if (request.kind === 'park') {
        const { subscriber, seq, id, type, attempts, lastError, parkedAt } = request.letter;
        insertDeadLetter.run(subscriber, seq, id, type, attempts, lastError, parkedAt);
      } else deleteDeadLetter.run(request.subscriber, request.seq);
    },
    close(): void {
      db.close();
      highWater.close();
    },
  };
}

/**
 * Runs `work` in one transaction: all of it is committed (one fsync under synchronous=FULL) or none of
 * it (node:sqlite has no helper for it). IMMEDIATE takes the
 * write lock at the start, so a transaction that has begun never fails later for want of it.
 */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    // A failed COMMIT (disk full, I/O error) can leave the transaction open. ROLLBACK itself fails only
    // while a statement is still stepping, which none is here; the caller hears what failed first.
    if (db.isTransaction) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // Nothing better to report than the original error.
      }
    }
    throw error;
  }
}
