import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildEnvelope } from '@blog/common';
import { SqliteEventLog } from '../src/store/sqliteEventLog';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function openLog() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-log-'));
  dirs.push(dir);
  return new SqliteEventLog(dir);
}

it('when an append cannot even be handed to the writer, then it fails alone and the log keeps working', async () => {
  const log = openLog();
  let deep: unknown = 'bottom';
  for (let i = 0; i < 20_000; i += 1) deep = [deep];

  await expect(log.append([buildEnvelope({ type: 'Deep', data: deep }, '/test')])).rejects.toThrow();
  const next = await log.append([buildEnvelope({ type: 'Fine', data: {} }, '/test')]);

  expect(next).toEqual([expect.objectContaining({ seq: 1, duplicate: false })]);
  await log.close();
});

it('when appends arrive while a commit is under way, then they are stored in order with consecutive seqs', async () => {
  const log = openLog();
  const appends = Array.from({ length: 50 }, (_, i) => log.append([buildEnvelope({ type: 'N', data: { i } }, '/test', `id-${i}`)]));

  const results = (await Promise.all(appends)).flat();

  expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(log.readAfter(0, 100).map((row) => JSON.parse(row.body).data.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  await log.close();
});
