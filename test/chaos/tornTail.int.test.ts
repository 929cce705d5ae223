import fs from 'node:fs';
import path from 'node:path';
import { highWaterPath } from '../../event-bus/src/store/sqlite/highWater';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { busProcess, publishPost, readLog } from './busProcess';

afterAll(removeTempDirs);

describe('a torn last record in the log', () => {
  it('when the bus died mid-write, then on start the partial record is dropped, reported, and the bus goes on', async () => {
    const dataDir = makeTempDir('bus-torn-');
    const wal = path.join(dataDir, 'events.db-wal');
    const highWater = highWaterPath(dataDir);
    const bus = await busProcess(dataDir);
    await bus.start();
    for (let i = 1; i <= 20; i += 1) expect((await publishPost(bus.url, `kept ${i}`)).status).toBe(201);
    const walBeforeLastWrite = fs.statSync(wal).size;
    const acknowledgedBeforeLastWrite = fs.readFileSync(highWater);
    // The 21st write stands for the one in progress when the process died.
    await publishPost(bus.url, 'torn');
    await bus.stop('SIGKILL');
    const walAfter = fs.statSync(wal).size;
    expect(walAfter).toBeGreaterThan(walBeforeLastWrite);

    // Cut the file in the middle of the last write's first frame, as a crash during write() would. That
    // write was never acknowledged, so the record of the highest acknowledged seq is put back as it was.
    fs.truncateSync(wal, walBeforeLastWrite + 1000);
    fs.writeFileSync(highWater, acknowledgedBeforeLastWrite);
    await bus.start();

    const log = await readLog(bus.url);
    expect(log.map((event) => event.data.title)).toEqual(Array.from({ length: 20 }, (_, i) => `kept ${i + 1}`));
    expect(bus.recentOutput()).toMatch(/last write to the log was torn/);
    const next = await publishPost(bus.url, 'after the restart');
    expect(next).toMatchObject({ status: 201, body: { seq: 21 } });
    expect((await readLog(bus.url)).map((event) => event.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    await bus.stop('SIGTERM');
  });
});
