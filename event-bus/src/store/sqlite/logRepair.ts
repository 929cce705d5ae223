import fs from 'node:fs';
import path from 'node:path';
import type { DatabaseSync, SQLOutputValue } from 'node:sqlite';
import { rangesOf, type SeqRange } from '@blog/contracts';
import { openDatabase, openExistingDatabase } from './connection';
import { LOG_SCHEMA } from './schema';
import { LogDamagedError } from './damage';
import { HighWaterMark, highWaterPath, readHighWater } from './highWater';
import { checkLog } from './logCheck';
import { arrayStatement, statement } from './statements';
import { sqliteCodeOf } from './sqliteCodes';
import { readableCopy, salvageRange, tryAll, type LostEvent, type Row } from './salvage';
import { inTransaction } from './database';

const DATABASE_FILE = 'events.db';
const DATABASE_FILES = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`];

export interface RepairReport {
  /** `sound`: nothing was wrong and nothing was changed. */
  outcome: 'sound' | 'repaired';
  problems: string[];
  kept: number;
  /** Every seq that was acknowledged and is not in the repaired log (earlier repairs' losses not included). */
  lost: SeqRange[];
  lostCount: number;
  /** The lost events whose type or id could still be read (at most 100 listed). */
  lostDetails: LostEvent[];
  positionsKept: number;
  deadLettersKept: number;
  /** Where the damaged files were moved, inside the data folder. */
  movedTo?: string;
  nextSeq: number;
}

/** Copied as found, whatever a damaged file holds in them: any value read back can be bound again. */
type DeadLetterRow = SQLOutputValue[];

/** The check the bus makes at start, on the log as it is; null when it passes. */
function currentDamage(dataDir: string): LogDamagedError | null {
  const file = path.join(dataDir, DATABASE_FILE);
  const highWater = readHighWater(dataDir);
  if (!fs.existsSync(file)) {
    return highWater.kind === 'at' && highWater.seq > 0
      ? new LogDamagedError({ problems: [`the database file is gone, but seqs 1 to ${highWater.seq} were acknowledged`], action: '' })
      : null;
  }
  let db: DatabaseSync | null = null;
  try {
    db = openDatabase(file);
    const { damage } = checkLog(db, highWater);
    return damage ? new LogDamagedError(damage) : null;
  } catch (error) {
    // A running bus holds its log exclusively (and checked it when it opened it): that is not damage, and
    // moving its files aside under it would be. A bus waiting on a damaged log holds nothing.
    if (sqliteCodeOf(error)?.startsWith('SQLITE_BUSY')) {
      throw new Error(`the log is held by a bus that is running on ${dataDir}; it checked the log when it opened it. Stop that bus first: nothing was changed`);
    }
    return new LogDamagedError({ problems: [`the database file is damaged (SQLite: ${error instanceof Error ? error.message : String(error)})`], action: '' });
  } finally {
    db?.close();
  }
}

/**
 * Repairs the log in `dataDir` when the bus's start-up check finds it damaged: moves the damaged files
 * into a folder of their own, keeps every event that can still be read at its own seq, records the
 * seqs that are gone (so the log's positions never move and no seq is used twice), keeps the
 * subscribers' positions and dead letters where they can be read, and reports exactly what was lost.
 * Run it with the bus stopped (or waiting, not ready, on this damage).
 */
export function repairLog(dataDir: string, now: Date = new Date()): RepairReport {
  const damage = currentDamage(dataDir);
  const highWater = readHighWater(dataDir);
  const acknowledged = highWater.kind === 'at' ? highWater.seq : 0;
  if (!damage) {
    return { outcome: 'sound', problems: [], kept: 0, lost: [], lostCount: 0, lostDetails: [], positionsKept: 0, deadLettersKept: 0, nextSeq: acknowledged + 1 };
  }

  const movedTo = path.join(dataDir, `damaged-${now.toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(movedTo, { recursive: true });
  for (const name of DATABASE_FILES) {
    if (fs.existsSync(path.join(dataDir, name))) fs.renameSync(path.join(dataDir, name), path.join(movedTo, name));
  }
  if (fs.existsSync(highWaterPath(dataDir))) fs.copyFileSync(highWaterPath(dataDir), path.join(movedTo, path.basename(highWaterPath(dataDir))));

  const kept: Row[] = [];
  const unsound: LostEvent[] = [];
  let positions: [string, number][] = [];
  let deadLetters: DeadLetterRow[] = [];
  let earlierLost: SeqRange[] = [];
  let upper = acknowledged;
  let old: DatabaseSync | null = null;
  try {
    old = openExistingDatabase(readableCopy(path.join(movedTo, DATABASE_FILE)));
    const source = old;
    upper = Math.max(upper, ...tryAll(() => [statement<[], { last: number | null }>(source, 'SELECT MAX(seq) AS last FROM events').get()?.last ?? 0]));
    if (upper > 0) salvageRange(old, { first: 1, last: upper }, kept, unsound);
    positions = tryAll(() => arrayStatement<[], [subscriber: string, seq: number]>(source, 'SELECT subscriber, seq FROM positions').all());
    deadLetters = tryAll(() =>
      arrayStatement<[], DeadLetterRow>(source, 'SELECT subscriber, seq, id, type, attempts, last_error, parked_at FROM dead_letters').all(),
    );
    earlierLost = tryAll(() => statement<[], SeqRange>(source, 'SELECT first, last FROM lost_events').all());
  } catch {
    // Not openable at all: nothing can be salvaged from it.
  } finally {
    old?.close();
  }

  // A damaged file may hold the same (source, id) twice; the first, at its seq, is the one kept.
  kept.sort((a, b) => a[0] - b[0]);
  const seen = new Set<string>();
  const keptRows = kept.filter((row) => {
    const key = `${row[1]}\u0000${row[2]}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const keptSeqs = new Set(keptRows.map((row) => row[0]));
  const wasLostBefore = (seq: number) => earlierLost.some((range) => seq >= range.first && seq <= range.last);
  const lostSeqs: number[] = [];
  for (let seq = 1; seq <= upper; seq += 1) if (!keptSeqs.has(seq) && !wasLostBefore(seq)) lostSeqs.push(seq);
  const lost = rangesOf(lostSeqs);

  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec(LOG_SCHEMA);
    const foundAt = now.toISOString();
    inTransaction(db, () => {
      const insert = statement<Row>(db, 'INSERT INTO events (seq, source, id, type, body) VALUES (?, ?, ?, ?, ?)');
      for (const row of keptRows) insert.run(...row);
      const record = statement<[number, number, string]>(db, 'INSERT INTO lost_events (first, last, found_at) VALUES (?, ?, ?)');
      for (const range of [...earlierLost, ...lost]) record.run(range.first, range.last, foundAt);
      const position = statement<[string, number]>(db, 'INSERT OR REPLACE INTO positions (subscriber, seq) VALUES (?, ?)');
      for (const [subscriber, seq] of positions) position.run(subscriber, Math.min(seq, upper));
      const letter = statement<DeadLetterRow>(db, 'INSERT OR REPLACE INTO dead_letters (subscriber, seq, id, type, attempts, last_error, parked_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const row of deadLetters) letter.run(...row);
    });
  } finally {
    db.close();
  }
  new HighWaterMark(dataDir, upper).close();

  const unsoundBySeq = new Map(unsound.map((event) => [event.seq, event]));
  return {
    outcome: 'repaired',
    problems: damage.damage.problems,
    kept: keptRows.length,
    lost,
    lostCount: lostSeqs.length,
    lostDetails: lostSeqs.slice(0, 100).map((seq) => unsoundBySeq.get(seq) ?? { seq }),
    positionsKept: positions.length,
    deadLettersKept: deadLetters.length,
    movedTo,
    nextSeq: upper + 1,
  };
}
