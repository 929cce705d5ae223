import { sqliteCodeOf } from './sqliteCodes';

/**
 * What the start-up check (logCheck.ts) or a read found wrong with the stored log. The bus does not
 * serve a damaged log: it stays alive and not ready, and `/readyz` and its log say what is wrong and
 * what the operator can do.
 */
export interface LogDamage {
  /** Each thing found wrong, in words an operator can act on. */
  problems: string[];
  /** What to do about it. */
  action: string;
}

export const REPAIR_ACTION =
  'stop the bus and run `npm run bus:repair` (in a pod: `node event-bus/dist/repair.js`) with the same DATA_DIR: it keeps every event it can read, moves the damaged files aside and lists exactly what was lost';

export const DAMAGE_CODE = 'LOG_DAMAGED';
/** The code of the error a bus gets when another holds its data folder (SQLite's lock). */
export const DATA_FOLDER_IN_USE = 'DATA_FOLDER_IN_USE';

export class LogDamagedError extends Error {
  readonly code = DAMAGE_CODE;

  constructor(readonly damage: LogDamage) {
    super(`the event log is damaged: ${damage.problems.join('; ')}`);
    this.name = 'LogDamagedError';
  }
}

/**
 * node:sqlite refuses to read an integer beyond 2^53 as a number (it throws ERR_OUT_OF_RANGE). Seqs,
 * counts and attempts are written from JS numbers and stay far below that, so such a value in the file
 * is not one the bus wrote: it is read as damage, like a row that is not an event.
 */
const UNREADABLE_INTEGER = 'ERR_OUT_OF_RANGE';

/** SQLite's own codes (by name: see sqliteCodes.ts) for a file that is not (or no longer) a sound database. */
export function isDamageCode(code: unknown): boolean {
  return (
    code === 'SQLITE_CORRUPT' ||
    code === 'SQLITE_NOTADB' ||
    code === DAMAGE_CODE ||
    code === UNREADABLE_INTEGER ||
    (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT_'))
  );
}

/** A stored body is the envelope as JSON with its own seq last; anything else is not an event the bus wrote. */
export function isSoundRow(seq: number, body: unknown): boolean {
  return typeof body === 'string' && body.startsWith('{') && body.endsWith(`"seq":${seq}}`);
}

/** One problem found, as the damage it is. */
export const damaged = (problem: string): LogDamagedError => new LogDamagedError({ problems: [problem], action: REPAIR_ACTION });

/** SQLite's refusal to open or read a file that is not a sound database, as the damage it is; other errors as they are. */
export function asDamage(error: unknown): unknown {
  if (error instanceof LogDamagedError || !isDamageCode(sqliteCodeOf(error))) return error;
  return damaged(`the database file is damaged (SQLite: ${error instanceof Error ? error.message : String(error)})`);
}
