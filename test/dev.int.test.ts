import { CommandGroup } from './support/commandGroup';
import { changesOf, readyRecord, supervisorRecords } from './support/supervisorOutput';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * `npm run dev`, as the README's Development section gives it: the same supervisor as npm start, with
 * every service from its sources under nodemon, and their readable logs shown.
 */
jest.setTimeout(240_000);

const dev = new CommandGroup();

afterAll(async () => {
  await dev.stop();
  removeTempDirs();
});

it('npm run dev starts every service from its sources, with readable logs, and they work together', async () => {
  dev.start('npm', ['run', 'dev'], { DATA_DIR: makeTempDir('dev-run-'), LOGS_DIR: makeTempDir('dev-logs-') });
  await waitFor('every process to be ready under npm run dev', () => readyRecord(dev.stdout), { timeoutMs: 200_000, intervalMs: 500 }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- npm run dev printed:\n${dev.output.slice(-3000)}`);
  });
  for (const name of ['event-bus', 'posts', 'comments', 'moderation', 'query', 'client']) {
    expect(changesOf(dev.stdout, name).map((change) => change.state)).toEqual(['starting', 'ready']);
  }

  const created = await fetch('http://localhost:4000/posts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'From dev' }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await waitFor('the post in query', async () => id in ((await (await fetch('http://localhost:4002/posts')).json()) as object));
  // The services' own lines are shown (as log records, the output being piped), from nodemon, and in
  // LOG_FORMAT=pretty: lines for a person, not JSON.
  const postsLines = supervisorRecords(dev.stdout).filter((record) => record.type === 'log' && record.name === 'posts').map((record) => record.line ?? '');
  expect(postsLines.some((line) => line.includes('[nodemon]'))).toBe(true);
  expect(postsLines.some((line) => /INFO.*posts ready/.test(line))).toBe(true);
  expect(postsLines.some((line) => line.startsWith('{"level"'))).toBe(false);
});
