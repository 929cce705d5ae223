import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { damageLog, needsWal, type LogDamageKind } from '../support/logDamage';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';
import { busProcess, readLog } from './busProcess';

const ROOT = path.join(__dirname, '..', '..');
const REPAIR = path.join(ROOT, 'event-bus', 'dist', 'repair.js');

afterAll(() => removeTempDirs());

/** Publishes `batches` batches of `size` events; answers every acknowledged id with its seq. */
async function publishBatches(busUrl: string, batches: number, size: number, tag: string, blobBytes = 300): Promise<Map<string, number>> {
  const acknowledged = new Map<string, number>();
  for (let batch = 0; batch < batches; batch += 1) {
    const events = Array.from({ length: size }, (_, index) => ({ type: 'Filler', id: `${tag}-${batch}-${index}`, data: { blob: 'x'.repeat(blobBytes) } }));
    const response = await fetch(`${busUrl}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(response.status).toBe(201);
    for (const receipt of (await response.json()) as { id: string; seq: number }[]) acknowledged.set(receipt.id, receipt.seq);
  }
  return acknowledged;
}

interface Report {
  outcome: string;
  kept: number;
  lostCount: number;
  lost: { first: number; last: number }[];
  nextSeq: number;
  movedTo?: string;
}

const repair = (dataDir: string): Report => JSON.parse(execFileSync(process.execPath, [REPAIR, '--data-dir', dataDir, '--json'], { encoding: 'utf8' })) as Report;

const readyz = async (url: string) => {
  const answer = await fetch(`${url}/readyz`);
  return { status: answer.status, body: (await answer.json()) as { status: string; problems?: string[]; action?: string } };
};

const PROBLEM_OF: Record<LogDamageKind, RegExp> = {
  page: /database file is damaged/,
  'wal-damaged': /acknowledged and are gone/,
  'wal-cut': /acknowledged and are gone/,
  'wal-deleted': /acknowledged and are gone|holds no events at all/,
  emptied: /holds no events at all|acknowledged and are gone|database file is damaged/,
  truncated: /database file is damaged/,
};

describe('a damaged log is never silent (embedded bus, real process)', () => {
  it.each(Object.keys(PROBLEM_OF) as LogDamageKind[])(
    'when the log is damaged (%s) while the bus is down, then it stays alive and not ready saying why, and the repair keeps what it can, counts the rest and reuses no seq',
    async (kind) => {
      const dataDir = makeTempDir(`bus-damage-${kind}-`);
      const bus = await busProcess(dataDir, { LOG_LEVEL: 'warn' });
      await bus.start();
      const acknowledged = await publishBatches(bus.url, 30, 100, kind);
      const highest = Math.max(...acknowledged.values());
      await bus.stop(needsWal(kind) ? 'SIGKILL' : 'SIGTERM');
      damageLog(dataDir, kind);

      await bus.start({ until: 'alive' });
      const damaged = await readyz(bus.url);
      const publish = await fetch(`${bus.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'Filler', data: {} }) });
      const read = await fetch(`${bus.url}/events?after=0`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      expect(damaged.status).toBe(503);
      expect(damaged.body.status).toBe('damaged');
      expect(damaged.body.problems!.join(' ')).toMatch(PROBLEM_OF[kind]);
      expect(damaged.body.action).toMatch(/npm run bus:repair/);
      expect(publish.status).toBe(503);
      expect(read.status).toBe(503);
      expect((await fetch(`${bus.url}/healthz`)).status).toBe(200);
      expect(bus.recentOutput().match(/the event log is damaged/g)).toHaveLength(1);

      const report = repair(dataDir);
      expect(report.outcome).toBe('repaired');
      expect(report.kept + report.lostCount).toBe(highest);
      if (kind !== 'page') expect(report.lostCount).toBeGreaterThan(0);
      // A damaged page costs the rows on it; a file cut in half still gives back what its first half holds.
      if (kind === 'page') expect(report.kept).toBeGreaterThan(highest * 0.95);
      if (kind === 'truncated') expect(report.kept).toBeGreaterThan(highest / 4);
      expect(report.nextSeq).toBe(highest + 1);

      // The bus, still waiting, takes the repaired log up by itself.
      await waitFor('the bus to open the repaired log', async () => (await readyz(bus.url)).status === 200, { timeoutMs: 15_000 });
      const served = await readLog(bus.url);
      expect(served).toHaveLength(report.kept);
      for (const event of served) expect(acknowledged.get(event.id)).toBe(event.seq);
      const after = await publishBatches(bus.url, 1, 1, `${kind}-after`);
      expect([...after.values()]).toEqual([highest + 1]);
      await bus.stop('SIGTERM');
      expect(repair(dataDir).outcome).toBe('sound');
    },
  );

  it('when the repair is run on the log of a running bus, then it refuses, says so and changes nothing', async () => {
    const dataDir = makeTempDir('bus-repair-running-');
    const bus = await busProcess(dataDir, { LOG_LEVEL: 'warn' });
    await bus.start();
    const acknowledged = await publishBatches(bus.url, 2, 50, 'running');
    const before = fs.statSync(path.join(dataDir, 'events.db')).ino;

    const run = spawnSync(process.execPath, [REPAIR, '--data-dir', dataDir], { encoding: 'utf8' });

    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/held by a bus that is running.*nothing was changed/);
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith('damaged-'))).toEqual([]);
    expect(fs.statSync(path.join(dataDir, 'events.db')).ino).toBe(before);
    expect((await readyz(bus.url)).status).toBe(200);
    expect(await readLog(bus.url)).toHaveLength(acknowledged.size);
    await bus.stop('SIGTERM');
  });

  it('when the database is damaged under a running bus, then a read that meets the damage is a 503, the bus turns not ready and says why, and it does not crash', async () => {
    const dataDir = makeTempDir('bus-damage-running-');
    const bus = await busProcess(dataDir, { LOG_LEVEL: 'warn', SUBSCRIBERS: 'http://127.0.0.1:9/events' });
    try {
      await bus.start();
      // Larger than SQLite's page cache as the store sets it (16 MB), so the oldest pages are read from disk again.
      await publishBatches(bus.url, 30, 1000, 'running', 900);
      await bus.stop('SIGTERM');
      await bus.start();
      execFileSync('dd', ['if=/dev/urandom', `of=${path.join(dataDir, 'events.db')}`, 'bs=4096', 'seek=4000', 'count=2000', 'conv=notrunc'], { stdio: 'ignore' });

      // The delivery loop keeps the oldest pages cached (its subscriber is down); the middle of the log is read from disk.
      const read = await fetch(`${bus.url}/events?after=14000&limit=100`);
      await waitFor('the bus to notice', async () => (await readyz(bus.url)).status === 503, { timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 2_000));

      expect(read.status).toBe(503);
      expect((await readyz(bus.url)).body.status).toBe('damaged');
      expect((await fetch(`${bus.url}/healthz`)).status).toBe(200);
      expect(bus.recentOutput()).not.toMatch(/Unhandled|uncaught/i);
    } finally {
      await bus.stop('SIGKILL');
    }
  });
});
