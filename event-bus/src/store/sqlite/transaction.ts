import type { DatabaseSync } from 'node:sqlite';

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
