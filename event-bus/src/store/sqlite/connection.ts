import fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/**
 * How long a statement waits for another connection's lock before failing (a repair writing while a
 * waiting bus tries to open the log): better-sqlite3's default, kept; node:sqlite's own is 0.
 */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The page cache better-sqlite3 was built with (16 MB; node:sqlite uses SQLite's default of 2 MB), so the
 * reads, the replay and the bus's memory stay as docs/PERFORMANCE.md measured them.
 */
const PAGE_CACHE_KIB = 16_000;

/** Opens (creating it if need be) a database file, set up as the log has always been. */
export function openDatabase(file: string): DatabaseSync {
  const db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens a database file that must already be there: node:sqlite has no such option, and a missing path would become a new, empty database. */
export function openExistingDatabase(file: string): DatabaseSync {
  if (!fs.existsSync(file)) throw Object.assign(new Error(`no database file at ${file}`), { code: 'ENOENT' });
  return openDatabase(file);
}
