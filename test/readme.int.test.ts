import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CommandGroup } from './support/commandGroup';
import { changesOf, readyRecord } from './support/supervisorOutput';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * The README's own commands: `npm start` (the quick start) and the curl tour, run as written, on the
 * default ports. If the README and the code drift apart, this fails.
 */
const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);
jest.setTimeout(240_000);

function readmeBlockAfter(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no sh block after "${heading}" in README.md`);
  return match[1]!;
}

const system = new CommandGroup();

afterAll(async () => {
  await system.stop();
  removeTempDirs();
});

it('the quick start runs, announces every service with its URL, and the curl tour gives the documented answers', async () => {
  expect(readmeBlockAfter('## Quick start').trim()).toBe('npm ci && npm start');
  // `npm ci` has already run (this test runs under npm test); the rest of the command as written. Its
  // output is piped here, so the supervisor prints JSON lines (a terminal gets the same as text).
  system.start('npm', ['start'], { DATA_DIR: makeTempDir('readme-start-'), LOGS_DIR: makeTempDir('readme-logs-') });
  const ready = await waitFor('npm start to announce every service', () => readyRecord(system.stdout), {
    timeoutMs: 180_000,
    intervalMs: 250,
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- npm start printed:\n${system.output.slice(-3000)}`);
  });
  const ports = { 'event-bus': 4005, posts: 4000, comments: 4001, moderation: 4003, query: 4002, client: 3000 };
  expect(ready).toMatchObject({ engine: 'embedded', urls: Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://localhost:${port}`])) });
  for (const name of Object.keys(ports)) expect(changesOf(system.stdout, name).map((change) => change.state)).toEqual(['starting', 'ready']);
  // The app itself, as the README says: localhost:3000 in a browser.
  const page = await fetch('http://localhost:3000/');
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<div id="root"></div>');

  const tour = await run('bash', ['-e', '-o', 'pipefail', '-c', readmeBlockAfter('## Try it with curl')], { cwd: ROOT });
  expect(tour.stdout).toContain('"title":"Hello, events"');
  // Three answers of the comments service, and the first events in the log.
  expect(tour.stdout.match(/"status":"pending"/g)?.length).toBeGreaterThanOrEqual(3);
  expect(tour.stdout).toContain('CommentCreated CommentModerated CommentUpdated');
  expect(tour.stdout).toMatch(/http:\/\/localhost:4003\/events/);
  expect(tour.stdout).toMatch(/^bus_events_stored_total \d+/m);
  expect(tour.stdout).toContain('{"status":"ok"}');

  await waitFor('the verdicts the tour promises', async () => {
    const view = JSON.stringify(await (await fetch('http://localhost:4002/posts')).json());
    return view.includes('"content":"Nice post","status":"approved"') && view.includes('"content":"I like oranges","status":"rejected"');
  });
});
