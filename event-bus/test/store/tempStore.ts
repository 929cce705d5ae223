import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore';
import type { StorageObserver } from '../../src/store/storage';

const dirs: string[] = [];
const open: SqliteStore[] = [];

/** A SQLite store in a fresh folder (or `dir`); closed and removed by closeTempStores. */
export function openTempStore(dir = newTempDir(), observer: StorageObserver = {}): SqliteStore {
  const store = new SqliteStore(dir, observer);
  open.push(store);
  return store;
}

export function newTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-store-'));
  dirs.push(dir);
  return dir;
}

export async function closeTempStores(): Promise<void> {
  await Promise.all(open.splice(0).map((store) => store.close()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
