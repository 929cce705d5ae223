import fs from 'node:fs';

const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

/**
 * Bytes at the end of the write-ahead log that do not make a whole frame: a write the process died in
 * the middle of. SQLite ignores them on open (with any transaction that has no commit frame), so
 * nothing acknowledged is lost; this only lets the bus say that it happened. Must run before the
 * database is opened.
 */
export function tornWalBytes(dbFile: string): number {
  let fd: number;
  try {
    fd = fs.openSync(`${dbFile}-wal`, 'r');
  } catch {
    return 0;
  }
  try {
    const { size } = fs.fstatSync(fd);
    if (size === 0) return 0;
    if (size < WAL_HEADER_BYTES) return size;
    // Only the header's page size is needed, not the whole file.
    const header = Buffer.alloc(12);
    fs.readSync(fd, header, 0, header.length, 0);
    const pageSize = header.readUInt32BE(8);
    if (pageSize === 0) return 0;
    return (size - WAL_HEADER_BYTES) % (WAL_FRAME_HEADER_BYTES + pageSize);
  } finally {
    fs.closeSync(fd);
  }
}
