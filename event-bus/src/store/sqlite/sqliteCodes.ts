/**
 * SQLite's result codes by name. node:sqlite reports a failure as an Error with `code` 'ERR_SQLITE_ERROR'
 * and SQLite's number in `errcode` (an extended code when SQLite has one: 2067 is SQLITE_CONSTRAINT_UNIQUE).
 * The store, the bus's answers and the tests speak of SQLite's own names (SQLITE_FULL, SQLITE_CORRUPT),
 * which say more than a number, so the number is turned into the name here, once, where an error leaves
 * the database's thread.
 */

/** Primary codes, by number (sqlite3.h). */
const PRIMARY = [
  'OK', 'ERROR', 'INTERNAL', 'PERM', 'ABORT', 'BUSY', 'LOCKED', 'NOMEM', 'READONLY', 'INTERRUPT', 'IOERR',
  'CORRUPT', 'NOTFOUND', 'FULL', 'CANTOPEN', 'PROTOCOL', 'EMPTY', 'SCHEMA', 'TOOBIG', 'CONSTRAINT', 'MISMATCH',
  'MISUSE', 'NOLFS', 'AUTH', 'FORMAT', 'RANGE', 'NOTADB', 'NOTICE', 'WARNING',
] as const;

/** Extended codes: primary | (n << 8), listed by primary name as their suffixes for n = 1, 2, ... (sqlite3.h). */
const EXTENDED: Partial<Record<(typeof PRIMARY)[number], readonly string[]>> = {
  ERROR: ['MISSING_COLLSEQ', 'RETRY', 'SNAPSHOT', 'RESERVESIZE', 'KEY', 'UNABLE'],
  ABORT: ['', 'ROLLBACK'],
  BUSY: ['RECOVERY', 'SNAPSHOT', 'TIMEOUT'],
  LOCKED: ['SHAREDCACHE', 'VTAB'],
  READONLY: ['RECOVERY', 'CANTLOCK', 'ROLLBACK', 'DBMOVED', 'CANTINIT', 'DIRECTORY'],
  IOERR: [
    'READ', 'SHORT_READ', 'WRITE', 'FSYNC', 'DIR_FSYNC', 'TRUNCATE', 'FSTAT', 'UNLOCK', 'RDLOCK', 'DELETE', 'BLOCKED',
    'NOMEM', 'ACCESS', 'CHECKRESERVEDLOCK', 'LOCK', 'CLOSE', 'DIR_CLOSE', 'SHMOPEN', 'SHMSIZE', 'SHMLOCK', 'SHMMAP',
    'SEEK', 'DELETE_NOENT', 'MMAP', 'GETTEMPPATH', 'CONVPATH', 'VNODE', 'AUTH', 'BEGIN_ATOMIC', 'COMMIT_ATOMIC',
    'ROLLBACK_ATOMIC', 'DATA', 'CORRUPTFS', 'IN_PAGE', 'BADKEY', 'CODEC',
  ],
  CORRUPT: ['VTAB', 'SEQUENCE', 'INDEX'],
  CANTOPEN: ['NOTEMPDIR', 'ISDIR', 'FULLPATH', 'CONVPATH', 'DIRTYWAL', 'SYMLINK'],
  CONSTRAINT: ['CHECK', 'COMMITHOOK', 'FOREIGNKEY', 'FUNCTION', 'NOTNULL', 'PRIMARYKEY', 'TRIGGER', 'UNIQUE', 'VTAB', 'ROWID', 'PINNED', 'DATATYPE'],
  NOTICE: ['RECOVER_WAL', 'RECOVER_ROLLBACK', 'RBU'],
  WARNING: ['AUTOINDEX'],
  AUTH: ['USER'],
};

/** SQLite's name for a result code: 11 is SQLITE_CORRUPT, 267 SQLITE_CORRUPT_VTAB; an extended code not listed falls back to its primary's name. */
export function sqliteCodeName(errcode: number): string {
  const primary = PRIMARY[errcode & 0xff];
  if (!primary) return `SQLITE_UNKNOWN_${errcode}`;
  const suffix = EXTENDED[primary]?.[(errcode >> 8) - 1];
  return suffix ? `SQLITE_${primary}_${suffix}` : `SQLITE_${primary}`;
}

/** An error's code as the store reports it: SQLite's name for a failure node:sqlite reported, any other error's own code. */
export function sqliteCodeOf(error: unknown): string | undefined {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') return sqliteCodeName(errcode);
  return typeof code === 'string' ? code : undefined;
}
