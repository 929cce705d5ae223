import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { CommandGroup } from './support/commandGroup';
import { blocksFor } from './support/readmeBlocks';
import { changesOf, readyRecord } from './support/supervisorOutput';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * The README's own commands, as a reader runs them: `npm start` (the quick start) on the default ports,
 * then every block of the guided tour in order, in one shell. If the README and the code drift apart,
 * this fails.
 */
const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);
jest.setTimeout(240_000);

const system = new CommandGroup();

afterAll(async () => {
  await system.stop();
  removeTempDirs();
});

it('the quick start runs and announces every service with its URL, and the guided tour gives the answers the README describes', async () => {
  expect(blocksFor('quickstart')).toEqual(['npm ci && npm start\n']);
  // `npm ci` has already run (this test runs under npm test); the rest of the command as written. Its
  // output is piped here, so the supervisor prints JSON lines (a terminal gets the same as text).
  system.start('npm', ['start'], { DATA_DIR: makeTempDir('readme-start-'), LOGS_DIR: makeTempDir('readme-logs-') });
  const ready = await waitFor('npm start to announce every service', () => readyRecord(system.stdout), { timeoutMs: 180_000, intervalMs: 250 }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- npm start printed:\n${system.output.slice(-3000)}`);
  });
  const ports = { 'event-bus': 4005, posts: 4000, comments: 4001, moderation: 4003, query: 4002, client: 3000 };
  expect(ready).toMatchObject({ engine: 'embedded', urls: Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://localhost:${port}`])) });
  for (const name of Object.keys(ports)) expect(changesOf(system.stdout, name).map((change) => change.state)).toEqual(['starting', 'ready']);
  // The two pages, as the README says: localhost:3000 and /flow.
  for (const page of ['/', '/flow']) expect(await (await fetch(`http://localhost:3000${page}`)).text()).toContain('<div id="root"></div>');

  const tour = await run('bash', ['-e', '-o', 'pipefail', '-c', blocksFor('tour').join('\n')], { cwd: ROOT, timeout: 120_000 });
  const out = tour.stdout;

  // 1. Events instead of calls: two comments answered "pending", then their verdicts in the view.
  expect(out.match(/"status":"pending"/g)?.length).toBeGreaterThanOrEqual(2);
  expect(out).toMatch(/"content":"Nice post","status":"approved"/);
  expect(out).toMatch(/"content":"I like oranges","status":"rejected"/);
  // 2. The log, the status table, and the view rebuilt after query was killed.
  expect(out).toMatch(/"seq":1\b/);
  expect(out).toMatch(/http:\/\/localhost:4003\/events/);
  expect(out).toMatch(/^[1-9]\d* posts in the rebuilt view$/m);
  // 3. Moderation stopped: the comment is accepted and its lag shows; started again, the verdict arrives.
  expect(out).toMatch(/"content":"Written while moderation is away","status":"pending"/);
  expect(out).toMatch(/4003\/events lag 1$/m);
  expect(out).toMatch(/"content":"Written while moderation is away","status":"approved"/);
  // 4. One request followed through its events; metrics and health.
  expect(out).toContain('CommentCreated CommentModerated CommentUpdated');
  expect(out).toMatch(/^bus_events_stored_total \d+/m);
  expect(out).toContain('{"status":"ok"}');
  // 5. The keyed comment sent twice is in the view once, and so is the one curl retried through comments' stop.
  expect(out.match(/"content":"Sent twice, stored once","status":"pending"/g)).toHaveLength(2);
  expect(out.match(/^1 of them in the view$/gm)).toHaveLength(2);
  expect(out).toMatch(/"content":"Waited for comments","status":"pending"/);
  // The supervisor showed the kill and the restart the tour caused, and moderation's stop and start.
  expect(changesOf(system.stdout, 'query').map((change) => change.state)).toEqual(expect.arrayContaining(['crashed', 'ready']));
  expect(changesOf(system.stdout, 'moderation').map((change) => change.state)).toEqual(expect.arrayContaining(['stopped', 'ready']));
  expect(changesOf(system.stdout, 'comments').map((change) => change.state)).toEqual(expect.arrayContaining(['stopped', 'ready']));
});
