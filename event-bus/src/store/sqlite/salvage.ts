import fs from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import type { SeqRange } from '@blog/contracts';
import { isSoundRow } from './damage';
import { arrayStatement } from './statements';

/** Reading what a damaged log file still holds, row by row where it must. */

/** A lost event, with what could still be read of it (its type and id live in columns of their own). */
export interface LostEvent {
  seq: number;
  type?: string;
  id?: string;
}

export type Row = [seq: number, source: string, id: string, type: string, body: string];

/** Reads what it can of one range of rows; a failed read is split until the bad rows are isolated. */
export function salvageRange(db: DatabaseSync, range: SeqRange, kept: Row[], lost: LostEvent[]): void {
  const select = arrayStatement<[number, number], Row>(db, 'SELECT seq, source, id, type, body FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq');
  const pending: SeqRange[] = [range];
  const found = new Set<number>();
  for (let next = pending.pop(); next; next = pending.pop()) {
    try {
      for (const row of select.all(next.first, next.last)) {
        found.add(row[0]);
        if (isSoundRow(row[0], row[4])) kept.push(row);
        else lost.push({ seq: row[0], type: readable(row[3]), id: readable(row[2]) });
      }
    } catch {
      if (next.first === next.last) continue;
      const middle = Math.floor((next.first + next.last) / 2);
      pending.push({ first: middle + 1, last: next.last }, { first: next.first, last: middle });
    }
  }
}

/**
 * A file cut short (its header still counts the pages it had) makes SQLite refuse every read, even of
 * the pages that are still there. A copy padded with empty pages up to the declared size reads as the
 * original did wherever the data survived, so the salvage loses only the rows that were cut away. The
 * damaged file itself is left as it was found; answers the file to read.
 */
export function readableCopy(file: string): string {
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read < header.length || header.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') return file;
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const declaredBytes = header.readUInt32BE(28) * pageSize;
  if (pageSize < 512 || declaredBytes <= fs.statSync(file).size) return file;
  const copy = `${file}.padded-for-salvage`;
  fs.copyFileSync(file, copy);
  fs.truncateSync(copy, declaredBytes);
  return copy;
}

const readable = (text: unknown): string | undefined => (typeof text === 'string' && /^[\x20-\x7e]{1,200}$/.test(text) ? text : undefined);

/** What `read` answers, or nothing when the damage makes it fail. */
export function tryAll<T>(read: () => T[]): T[] {
  try {
    return read();
  } catch {
    return [];
  }
}
