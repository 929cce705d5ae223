import type { DatabaseSync } from 'node:sqlite';
import { REPAIR_ACTION, isSoundRow, type LogDamage } from './damage';
import type { HighWaterReading } from './highWater';
import { arrayStatement, statement } from './statements';

/** Rows read per step of the scan: the whole log is read once at start, a page at a time. */
const SCAN_PAGE = 5000;

export interface LogCheckResult {
  /** Highest seq in the log, counting seqs a repair recorded as lost: the next event gets the one after. */
  lastSeq: number;
  damage: LogDamage | null;
}

const hasTable = (db: DatabaseSync, name: string): boolean =>
  statement<[string], { name: string }>(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/** Seqs that `npm run bus:repair` found gone and recorded, so the same loss is not reported again. */
function lostSeqs(db: DatabaseSync): { count: number; last: number } {
  if (!hasTable(db, 'lost_events')) return { count: 0, last: 0 };
  const row = statement<[], { count: number | null; last: number | null }>(db, 'SELECT SUM(last - first + 1) AS count, MAX(last) AS last FROM lost_events').get();
  return { count: row?.count ?? 0, last: row?.last ?? 0 };
}

/** Every stored row read once: each must be an event whose own seq is its position. */
function unsoundRows(db: DatabaseSync): { count: number; first?: number } {
  const page = arrayStatement<[number, number], [seq: number, body: string]>(db, 'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  let after = 0;
  let count = 0;
  let first: number | undefined;
  for (;;) {
    const rows = page.all(after, SCAN_PAGE);
    for (const [seq, body] of rows) {
      if (isSoundRow(seq, body)) continue;
      count += 1;
      first ??= seq;
    }
    if (rows.length < SCAN_PAGE) return { count, first };
    after = rows[rows.length - 1]![0];
  }
}

/**
 * The check the log passes before the bus serves it: SQLite's integrity check, every row readable and
 * in place, no seq missing inside the log, and the log's end not behind the highest seq the bus ever
 * acknowledged (kept in its own file, which survives damage to the database and its write-ahead log).
 * Runs on a database that may be damaged, so it creates nothing and changes nothing.
 */
export function checkLog(db: DatabaseSync, highWater: HighWaterReading): LogCheckResult {
  const problems: string[] = [];
  const acknowledged = highWater.kind === 'at' ? highWater.seq : 0;
  if (highWater.kind === 'unreadable') problems.push('the file that records the highest acknowledged seq is unreadable, so a loss could not be ruled out');
  const integrity = statement<[], { integrity_check: string }>(db, 'PRAGMA integrity_check').all();
  if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') {
    const first = integrity[0]?.integrity_check.split('\n').filter(Boolean).pop() ?? 'no answer';
    problems.push(`the database file is damaged (SQLite's integrity check found ${integrity.length} problem${integrity.length === 1 ? '' : 's'}, the first: ${first})`);
  }
  if (!hasTable(db, 'events')) {
    if (acknowledged > 0) problems.push(`the database holds no events at all, but seqs 1 to ${acknowledged} were acknowledged (the file was emptied, replaced or deleted)`);
    return { lastSeq: acknowledged, damage: problems.length > 0 ? { problems, action: REPAIR_ACTION } : null };
  }
  const stored = statement<[], { last: number | null; count: number }>(db, 'SELECT MAX(seq) AS last, COUNT(*) AS count FROM events').get()!;
  const lost = lostSeqs(db);
  const lastSeq = Math.max(stored.last ?? 0, lost.last);
  if (lastSeq < acknowledged) {
    problems.push(
      `events ${lastSeq + 1} to ${acknowledged} (${acknowledged - lastSeq}) were acknowledged and are gone (the write-ahead log was damaged, cut or deleted, or an older copy of the database was put back)`,
    );
  }
  const missingInside = lastSeq - lost.count - stored.count;
  if (missingInside > 0) problems.push(`${missingInside} seq${missingInside === 1 ? ' is' : 's are'} missing inside the log`);
  const unsound = unsoundRows(db);
  if (unsound.count > 0) problems.push(`${unsound.count} stored event${unsound.count === 1 ? ' is' : 's are'} not readable as events (the first at seq ${unsound.first})`);
  return { lastSeq: Math.max(lastSeq, acknowledged), damage: problems.length > 0 ? { problems, action: REPAIR_ACTION } : null };
}
