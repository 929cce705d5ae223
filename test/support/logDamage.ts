import fs from 'node:fs';
import path from 'node:path';

/** Ways a disk or a person damages the embedded bus's log while the bus is down, as the tests cause them. */
export type LogDamageKind = 'page' | 'wal-damaged' | 'wal-cut' | 'wal-deleted' | 'emptied' | 'truncated';

const dbFile = (dataDir: string) => path.join(dataDir, 'events.db');
const walFile = (dataDir: string) => `${dbFile(dataDir)}-wal`;

function overwrite(file: string, offset: number, bytes: number, value: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.alloc(bytes, value), 0, bytes, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether the kind needs the events in the write-ahead log (the bus killed) or in the database file (stopped cleanly). */
export const needsWal = (kind: LogDamageKind): boolean => kind.startsWith('wal-');

export function damageLog(dataDir: string, kind: LogDamageKind): void {
  const db = dbFile(dataDir);
  switch (kind) {
    case 'page': {
      const pages = Math.floor(fs.statSync(db).size / 4096);
      overwrite(db, Math.floor(pages / 2) * 4096, 4096, 0xab);
      return;
    }
    case 'wal-damaged':
      overwrite(walFile(dataDir), Math.floor(fs.statSync(walFile(dataDir)).size / 3), 4096, 0xab);
      return;
    case 'wal-cut':
      fs.truncateSync(walFile(dataDir), Math.floor(fs.statSync(walFile(dataDir)).size / 2));
      return;
    case 'wal-deleted':
      fs.rmSync(walFile(dataDir));
      return;
    case 'emptied':
      fs.truncateSync(db, 0);
      return;
    case 'truncated':
      fs.truncateSync(db, Math.floor(fs.statSync(db).size / 2 / 4096) * 4096);
      return;
  }
}
