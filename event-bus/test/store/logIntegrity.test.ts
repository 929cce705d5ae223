import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { buildEnvelope } from '@blog/contracts';
import { LogDamagedError } from '../../src/store/sqlite/damage';
import { readHighWater } from '../../src/store/sqlite/highWater';
import { repairLog } from '../../src/store/sqlite/logRepair';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore';
import { closeTempStores, newTempDir } from './tempStore';

afterEach(closeTempStores);

const event = (i: number) => buildEnvelope({ type: 'N', data: { i } }, '/test', `id-${i}`);

async function logOf(count: number): Promise<string> {
  const dir = newTempDir();
  const store = new SqliteStore(dir);
  await store.append(Array.from({ length: count }, (_, i) => event(i + 1)));
  await store.close();
  return dir;
}

/** Changes the closed log behind the bus's back, as a disk or an operator could. */
function tamper(dir: string, sql: string): void {
  const db = new DatabaseSync(path.join(dir, 'events.db'));
  db.exec(sql);
  db.close();
}

const openingError = (dir: string): unknown => {
  try {
    void new SqliteStore(dir).close();
    return null;
  } catch (error) {
    return error;
  }
};

describe('the log checks itself when it is opened', () => {
  it('when events are appended, then the highest acknowledged seq is recorded beside the database', async () => {
    const dir = await logOf(7);
    expect(readHighWater(dir)).toEqual({ kind: 'at', seq: 7 });
  });

  it('when acknowledged events are gone from the end (an older copy, a lost write-ahead log), then it refuses to open and names the seqs', async () => {
    const dir = await logOf(10);
    tamper(dir, 'DELETE FROM events WHERE seq > 6');

    const error = openingError(dir);

    expect(error).toBeInstanceOf(LogDamagedError);
    expect((error as LogDamagedError).damage.problems).toEqual([expect.stringMatching(/^events 7 to 10 \(4\) were acknowledged and are gone/)]);
  });

  it('when a stored event is all NUL bytes, then it refuses to open rather than serve it', async () => {
    const dir = await logOf(5);
    tamper(dir, "UPDATE events SET body = CAST(zeroblob(40) AS TEXT) WHERE seq = 3");

    const error = openingError(dir) as LogDamagedError;

    expect(error.damage.problems).toEqual([expect.stringMatching(/1 stored event is not readable as events \(the first at seq 3\)/)]);
  });

  it('when a seq is missing inside the log, then it refuses to open', async () => {
    const dir = await logOf(5);
    tamper(dir, 'DELETE FROM events WHERE seq = 2');
    expect((openingError(dir) as LogDamagedError).damage.problems).toEqual([expect.stringMatching(/1 seq is missing inside the log/)]);
  });

  it('when the damage is repaired, then the log opens, lists what was lost, and the next event follows the lost ones (no seq is used twice)', async () => {
    const dir = await logOf(10);
    tamper(dir, "DELETE FROM events WHERE seq > 8; UPDATE events SET body = 'garbage' WHERE seq = 4");

    const report = repairLog(dir, new Date('2026-12-02T12:00:00Z'));
    const store = new SqliteStore(dir);
    const [next] = await store.append([event(11)]);
    const kept = (await store.readAfter(0, 100)).map((row) => row.seq);
    await store.close();

    expect(report).toMatchObject({ outcome: 'repaired', kept: 7, lostCount: 3, lost: [{ first: 4, last: 4 }, { first: 9, last: 10 }], nextSeq: 11 });
    expect(report.lostDetails).toEqual([{ seq: 4, type: 'N', id: 'id-4' }, { seq: 9 }, { seq: 10 }]);
    expect(next!.seq).toBe(11);
    expect(kept).toEqual([1, 2, 3, 5, 6, 7, 8, 11]);
    expect(repairLog(dir).outcome).toBe('sound');
  });

  it('when the log is sound, then the repair changes nothing', async () => {
    const dir = await logOf(3);
    expect(repairLog(dir)).toMatchObject({ outcome: 'sound', nextSeq: 4 });
    const store = new SqliteStore(dir);
    expect(store.lastSeq).toBe(3);
    await store.close();
  });
});
