import { MAX_EVENT_BYTES } from '@blog/contracts';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';
import { busProcess, readLog } from './busProcess';

/**
 * A full disk and a read-only DATA_DIR, made real with a small tmpfs mounted over the bus's folder.
 * Mounting needs root, which CI has; elsewhere the suite says why it cannot run.
 */
const canMount = process.getuid?.() === 0;
const mounted: string[] = [];

function mountTmpfs(dir: string, options: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounted.push(dir);
}

afterAll(() => {
  for (const dir of mounted.splice(0)) execFileSync('umount', ['-l', dir]);
  removeTempDirs();
});

async function publishFiller(busUrl: string, marker: string, bytes: number) {
  const response = await fetch(`${busUrl}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'Filler', id: marker, data: { marker, blob: 'x'.repeat(bytes) } }),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

const describeWithMount = canMount || process.env.CI ? describe : describe.skip;
if (!canMount) console.warn('test/chaos/diskFailures: needs root to mount a tmpfs; skipped here (CI runs it as root)');

describeWithMount('disk failures', () => {
  it('when the disk fills up, then publishes answer 503, nothing acknowledged is lost, and it recovers when space returns', async () => {
    const dataDir = makeTempDir('bus-full-');
    mountTmpfs(dataDir, 'size=3m');
    const bus = await busProcess(dataDir, { LOG_LEVEL: 'warn' });
    await bus.start();
    const acknowledged: string[] = [];
    const refused: string[] = [];
    // Events just under the bus's 16 KiB limit: some hundreds fill the 3 MiB.
    for (let i = 0; i < 1_000 && refused.length < 3; i += 1) {
      const marker = `filler-${i}`;
      const answer = await publishFiller(bus.url, marker, MAX_EVENT_BYTES - 1_000);
      if (answer.status === 201) acknowledged.push(marker);
      else {
        expect(answer.status).toBe(503);
        expect(answer.body.error).toMatch(/nothing was stored/);
        expect(JSON.stringify(answer.body)).not.toMatch(/SQLITE|\/tmp\//);
        refused.push(marker);
      }
    }
    expect(refused.length).toBe(3);
    expect(acknowledged.length).toBeGreaterThan(3);
    expect((await fetch(`${bus.url}/healthz`)).status).toBe(200);

    execFileSync('mount', ['-o', 'remount,size=64m', dataDir]);
    const afterSpace = await publishFiller(bus.url, 'after-space', 1000);
    expect(afterSpace.status).toBe(201);
    await bus.stop('SIGKILL');
    await bus.start();

    const stored = (await readLog(bus.url)).map((event) => event.id);
    expect(stored).toEqual([...acknowledged, 'after-space']);
    await bus.stop('SIGTERM');
  });

  it('when DATA_DIR is not writable, then the bus stays alive but not ready, answers 503, and opens the log once it can', async () => {
    const dataDir = makeTempDir('bus-readonly-');
    mountTmpfs(dataDir, 'ro,size=1m');
    const bus = await busProcess(dataDir, { LOG_LEVEL: 'warn' });
    await bus.start({ until: 'alive' });

    expect((await fetch(`${bus.url}/readyz`)).status).toBe(503);
    const refused = await publishFiller(bus.url, 'while-read-only', 10);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/DATA_DIR\) is not writable.*nothing was stored/);
    expect(JSON.stringify(refused.body)).not.toContain(dataDir);
    expect(bus.recentOutput()).toMatch(/cannot open the event log/);

    execFileSync('mount', ['-o', 'remount,rw', dataDir]);
    await waitFor('the bus to open its log', async () => (await fetch(`${bus.url}/readyz`)).status === 200, { timeoutMs: 10_000 });
    expect((await publishFiller(bus.url, 'once-writable', 10)).status).toBe(201);
    expect(fs.existsSync(`${dataDir}/events.db`)).toBe(true);
    expect((await readLog(bus.url)).map((event) => event.id)).toEqual(['once-writable']);
    await bus.stop('SIGTERM');
  });
});
