import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LogDamagedError, asDamage } from '../../src/store/sqlite/damage';
import { failureOf } from '../../src/store/sqlite/protocol';
import { sqliteCodeName, sqliteCodeOf } from '../../src/store/sqlite/sqliteCodes';
import { inTransaction } from '../../src/store/sqlite/database';
import { closeTempStores, newTempDir } from './tempStore';

afterEach(closeTempStores);

const thrownBy = (work: () => unknown): unknown => {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
};

describe("node:sqlite's numeric error codes", () => {
  it('when SQLite answers a primary or an extended code, then it is named as SQLite names it', () => {
    expect(sqliteCodeName(11)).toBe('SQLITE_CORRUPT');
    expect(sqliteCodeName(267)).toBe('SQLITE_CORRUPT_VTAB');
    expect(sqliteCodeName(779)).toBe('SQLITE_CORRUPT_INDEX');
    expect(sqliteCodeName(26)).toBe('SQLITE_NOTADB');
    expect(sqliteCodeName(13)).toBe('SQLITE_FULL');
    expect(sqliteCodeName(14)).toBe('SQLITE_CANTOPEN');
    expect(sqliteCodeName(8)).toBe('SQLITE_READONLY');
    expect(sqliteCodeName(2067)).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(sqliteCodeName(1555)).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(sqliteCodeName(266)).toBe('SQLITE_IOERR_READ');
    expect(sqliteCodeName(11 | (40 << 8))).toBe('SQLITE_CORRUPT');
  });

  it('when node:sqlite throws, then the error is reported under the SQLite name; other errors keep their own code', () => {
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (id TEXT UNIQUE)');
    db.exec("INSERT INTO t VALUES ('a')");
    const unique = thrownBy(() => db.exec("INSERT INTO t VALUES ('a')"));
    db.close();

    expect(unique).toMatchObject({ code: 'ERR_SQLITE_ERROR', errcode: 2067 });
    expect(sqliteCodeOf(unique)).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(failureOf(unique)).toMatchObject({ message: expect.stringContaining('UNIQUE constraint failed: t.id'), code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(sqliteCodeOf(Object.assign(new Error('gone'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(sqliteCodeOf(new Error('plain'))).toBeUndefined();
  });

  it('when a file is not a database, then the refusal is read as damage', () => {
    const file = path.join(newTempDir(), 'events.db');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x41));
    const db = new DatabaseSync(file);
    const refusal = thrownBy(() => db.exec('PRAGMA journal_mode = WAL'));
    db.close();

    expect(sqliteCodeOf(refusal)).toBe('SQLITE_NOTADB');
    expect(asDamage(refusal)).toBeInstanceOf(LogDamagedError);
  });

  it('when an integer beyond 2^53 is read, then the refusal is read as damage (the bus writes none)', () => {
    const db = new DatabaseSync(':memory:');
    const refusal = thrownBy(() => db.prepare('SELECT 4611686018427387904 AS seq').get());
    db.close();

    expect(asDamage(refusal)).toBeInstanceOf(LogDamagedError);
  });
});

describe('a transaction', () => {
  it('when its work throws, then nothing of it is stored, the error is the one thrown, and the next one works', () => {
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');

    const failed = thrownBy(() =>
      inTransaction(db, () => {
        insert.run(1);
        throw new Error('halfway');
      }),
    );
    const answer = inTransaction(db, () => insert.run(2).changes);

    expect(failed).toEqual(new Error('halfway'));
    expect(answer).toBe(1);
    expect(db.isTransaction).toBe(false);
    expect(db.prepare('SELECT n FROM t').all()).toEqual([{ n: 2 }]);
    db.close();
  });
});
