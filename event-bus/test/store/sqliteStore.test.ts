import fs from 'node:fs';
import path from 'node:path';
import { buildEnvelope } from '@blog/contracts';
import { SqliteStore } from '../../src/store/sqlite/sqliteStore';
import { closeTempStores, newTempDir, openTempStore } from './tempStore';

afterEach(closeTempStores);

const event = (i: number, id = `id-${i}`) => buildEnvelope({ type: 'N', data: { i } }, '/test', id);

describe('the SQLite store', () => {
  it('when an append cannot even be handed to the writer, then it fails alone and the log keeps working', async () => {
    const log = openTempStore();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i += 1) deep = [deep];

    await expect(log.append([buildEnvelope({ type: 'Deep', data: deep }, '/test')])).rejects.toThrow();
    const next = await log.append([buildEnvelope({ type: 'Fine', data: {} }, '/test')]);

    expect(next).toEqual([expect.objectContaining({ seq: 1, duplicate: false })]);
  });

  it('when appends arrive while a commit is under way, then they are stored in order with consecutive seqs', async () => {
    const log = openTempStore();
    const appends = Array.from({ length: 50 }, (_, i) => log.append([event(i)]));

    const results = (await Promise.all(appends)).flat();

    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await log.readAfter(0, 100)).map((row) => JSON.parse(row.body).data.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('when it is reopened, then the log, the positions and the dead letters are as they were left', async () => {
    const dir = newTempDir();
    const first = new SqliteStore(dir);
    await first.append([event(1), event(2), event(3)]);
    first.savePositions(new Map([['http://a/events', 2]]));
    first.park({ subscriber: 'http://a/events', seq: 3, id: 'id-3', type: 'N', attempts: 4, lastError: 'answered 500', parkedAt: '2026-01-01T00:00:00.000Z' });
    await first.close();

    const second = openTempStore(dir);

    expect(second.lastSeq).toBe(3);
    expect(second.loadPositions()).toEqual(new Map([['http://a/events', 2]]));
    expect(second.loadDeadLetters()).toEqual([expect.objectContaining({ subscriber: 'http://a/events', seq: 3, attempts: 4 })]);
    expect((await second.readAfter(0, 10)).map((row) => row.seq)).toEqual([1, 2, 3]);
    expect(await second.append([event(1)])).toEqual([{ id: 'id-1', seq: 1, duplicate: true }]);
  });

  it('when it is closed with appends still queued, then they are committed first', async () => {
    const dir = newTempDir();
    const store = new SqliteStore(dir);
    const appends = Array.from({ length: 20 }, (_, i) => store.append([event(i)]));

    await store.close();

    await expect(Promise.all(appends)).resolves.toHaveLength(20);
    await expect(store.append([event(99)])).rejects.toThrow(/closed/);
    expect(openTempStore(dir).lastSeq).toBe(20);
  });

  it('when the folder cannot hold the database, then opening throws SQLite’s own reason at once', () => {
    const dir = newTempDir();
    fs.mkdirSync(path.join(dir, 'events.db'));

    const started = Date.now();
    expect(() => new SqliteStore(dir)).toThrow(expect.objectContaining({ message: 'unable to open database file', code: 'SQLITE_CANTOPEN' }));
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('when commits happen, then the observer hears how many events each stored', async () => {
    const commits: number[] = [];
    const store = openTempStore(newTempDir(), { committed: (events) => commits.push(events) });

    await store.append([event(1), event(2)]);
    await store.append([event(1)]);

    expect(commits).toEqual([2, 0]);
  });

  it('when events are older than those kept in memory, then they are read from the database, in pages', async () => {
    const store = openTempStore();
    for (let batch = 0; batch < 12; batch += 1) {
      await store.append(Array.from({ length: 1000 }, (_, i) => event(batch * 1000 + i)));
    }

    const page = await store.readAfter(10, 5);
    const one = await store.readOne(3);

    expect(page.map((row) => row.seq)).toEqual([11, 12, 13, 14, 15]);
    expect(JSON.parse(one!.body)).toMatchObject({ id: 'id-2', seq: 3 });
    expect(await store.readOne(12_001)).toBeUndefined();
  });
});
