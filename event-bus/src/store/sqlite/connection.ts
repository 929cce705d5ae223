import fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/**
 * How long a statement waits for another connection's lock before failing (a repair writing while a
 * waiting bus tries to open the log); node:sqlite's own is 0, which fails at once.
 */
const BUSY_TIMEOUT_MS = 5000;

/**
 * A 16 MB page cache (node:sqlite uses SQLite's default of 2 MB), the size docs/PERFORMANCE.md measured
 * the reads, the replay and the bus's memory with.
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
