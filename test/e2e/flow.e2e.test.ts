/**
 * The flow page in a real browser (Debian's Chromium, driven by playwright-core) on the whole system as
 * `npm start` runs it: the supervisor from its build, on ports of its own (PORT_OFFSET), so a system on
 * the default ports can run beside it. What a learner does: watch a comment's three events, trace them,
 * stop moderation from the page and watch the lag grow, start it and watch it catch up, and see a
 * service killed with SIGKILL come back by itself. On both engines.
 *
 * Never downloads a browser: without /usr/bin/chromium (or CHROMIUM_PATH) it fails, saying how to install
 * it. Screenshots go to artifacts/e2e/; with UPDATE_SCREENSHOT=1 the flow page's are also written to docs/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { natsServerProgram } from '../support/localSystem';
import { commentsInView, createComment, createPost, getJson, queryView } from '../support/blogApi';
import { CommandGroup } from '../support/commandGroup';
import { readyRecord } from '../support/supervisorOutput';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';

const ROOT = path.resolve(__dirname, '../..');
const SUPERVISE = path.join(ROOT, 'launcher', 'dist', 'supervise.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e');
const DOCS = path.join(ROOT, 'docs');
/** axe-core, the accessibility engine, injected into the page under test. */
const AXE = require.resolve('axe-core/axe.min.js');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

jest.setTimeout(180_000);

interface ProcessView {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
}

function requireChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  throw new Error(
    `The browser test needs Debian's Chromium at ${CHROMIUM}, and it is missing.\n` +
      'Install it (as root): apt-get update && apt-get install -y chromium\n(.ci/run does this; no browser is ever downloaded.)',
  );
}

afterAll(() => removeTempDirs());

describe.each([
  { engine: 'embedded', offset: 20_000 },
  { engine: 'nats', offset: 21_000 },
] as const)('the flow page on the $engine engine, under the supervisor', ({ engine, offset }) => {
  const at = (port: number) => `http://localhost:${port + offset}`;
  const system = new CommandGroup();
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  const processes = async () => (await getJson<{ processes: ProcessView[] }>(`${at(4100)}/processes`)).processes;
  const processOf = async (name: string) => (await processes()).find((process) => process.name === name)!;
  const node = (name: string) => page.getByTestId(`flow-node-${name}`);
  const lagOf = async (service: string) => Number(await page.locator(`[data-testid="subscriber"][data-service="${service}"] [data-testid="subscriber-lag"]`).getAttribute('data-lag'));
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `flow-${engine}-${name}.png`), fullPage: true });

  /** The blog page in a tab of its own, its comments settled: artifacts/e2e, and docs/screenshot.png with UPDATE_SCREENSHOT=1. */
  async function blogPicture(): Promise<void> {
    const blog = await browser!.newPage({ viewport: { width: 1000, height: 860 } });
    try {
      await blog.goto(`${at(3000)}/`);
      await waitFor('the comments settled on the blog page', async () => (await blog.getByText(/awaiting moderation/i).count()) === 0 && (await blog.getByText('Notes from a week of event sourcing').count()) > 0, { timeoutMs: 15_000 });
      await blog.screenshot({ path: path.join(ARTIFACTS, `blog-${engine}.png`) });
      if (process.env.UPDATE_SCREENSHOT === '1') await blog.screenshot({ path: path.join(DOCS, 'screenshot.png') });
    } finally {
      await blog.close();
      // Back to the flow page's tab, as its reader would: a tab in the background gets no animation frames.
      await page.bringToFront();
    }
  }

  /** The flow page with moderation stopped and comments waiting: the README's picture, and one at phone width. */
  async function flowPictures(): Promise<void> {
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await page.screenshot({ path: path.join(DOCS, 'flow.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(DOCS, 'flow-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 1000 });
  }

  beforeAll(async () => {
    requireChromium();
    // Throws, saying what to install, when no nats-server 2.10 or later is found.
    if (engine === 'nats') natsServerProgram();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const args = engine === 'nats' ? [SUPERVISE, '--engine', 'nats'] : [SUPERVISE];
    system.start(process.execPath, args, {
      PORT_OFFSET: String(offset),
      DATA_DIR: makeTempDir('flow-e2e-data-'),
      LOGS_DIR: makeTempDir('flow-e2e-logs-'),
      NATS_STORE_DIR: makeTempDir('flow-e2e-nats-'),
    });
    await waitFor('the supervisor to say every process is ready', () => readyRecord(system.stdout), { timeoutMs: 120_000, intervalMs: 100 }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- the supervisor printed:\n${system.output.slice(-3000)}`);
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${at(3000)}/`);
    await page.getByRole('link', { name: /watch the events flow|flow/i }).first().click();
    await page.waitForURL(/\/flow$/);
    for (const name of ['posts', 'comments', 'moderation', 'query']) await waitFor(`${name} ready on the diagram`, async () => (await node(name).getAttribute('data-state')) === 'ready', { timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await system.stop();
  });

  it('when a comment is written, then its three events appear in the log in order, and its trace shows them with the time between steps', async () => {
    // An ordinary blog, as a reader would write it (the README's picture is taken of it).
    const first = await createPost(at(4000), 'Notes from a week of event sourcing');
    await createComment(at(4001), first.body.id, 'Replaying the log to rebuild a view took less time than I expected.');
    await createComment(at(4001), first.body.id, 'Does the order of events ever change between two subscribers?');
    const post = await createPost(at(4000), 'Why events instead of calls');
    await createComment(at(4001), post.body.id, 'Orange is my favourite colour, by the way.');
    const comment = await createComment(at(4001), post.body.id, 'The bus keeps every event, so nothing is lost');
    expect([post.status, comment.status]).toEqual([201, 201]);

    await waitFor('the CommentUpdated row', async () => (await page.locator('[data-testid="log-row"]', { hasText: 'CommentUpdated' }).count()) >= 1, { timeoutMs: 20_000 });
    await page.getByLabel(/comment id/i).fill(comment.body.id);
    await page.getByRole('button', { name: /^trace$/i }).click();

    const steps = page.getByTestId('trace-step');
    await waitFor('three steps in the trace', async () => (await steps.count()) === 3, { timeoutMs: 10_000 });
    expect(await steps.evaluateAll((items) => items.map((item) => item.getAttribute('data-type')))).toEqual(['CommentCreated', 'CommentModerated', 'CommentUpdated']);
    const seqs = await steps.evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(await page.getByTestId('trace-gap').count()).toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: /^open event \d+, CommentModerated$/i }).last().click();
    expect(await page.getByTestId('event-json').textContent()).toContain('"type": "CommentModerated"');
    await shot('trace');
    if (engine === 'embedded') await blogPicture();
    expect(pageErrors).toEqual([]);
  });

  it('when moderation is stopped from the page, then new comments wait and its lag grows; started again, the lag returns to 0 and the verdicts arrive', async () => {
    const post = await createPost(at(4000), 'Breaking it on purpose');
    await page.getByRole('button', { name: 'Stop moderation' }).click();
    await waitFor('moderation stopped', async () => (await processOf('moderation')).state === 'stopped', { timeoutMs: 20_000 });
    await waitFor('the diagram to show moderation stopped', async () => (await node('moderation').getAttribute('data-state')) !== 'ready', { timeoutMs: 10_000 });

    const written: { id: string; content: string }[] = [];
    for (const content of ['Written while moderation is away', 'An orange while it is away', 'One more while it is away']) {
      const created = await createComment(at(4001), post.body.id, content);
      expect(created.status).toBe(201);
      written.push(created.body);
    }
    const pendingInView = async () => {
      const inView = commentsInView(await queryView(at(4002)));
      return written.every((comment) => inView.get(comment.id)?.status === 'pending');
    };
    await waitFor('the comments pending in the view', pendingInView, { timeoutMs: 10_000 });
    await waitFor("moderation's lag to grow on the page", async () => (await lagOf('moderation')) >= written.length, { timeoutMs: 15_000 });
    // The events reach the page a moment after the bus counts them (the stream reads the log twice a second,
    // and each dot takes almost a second to reach the bus): then they queue there for moderation.
    const waitingForModeration = async () => Number.parseInt((await page.getByTestId('flow-waiting-moderation').textContent({ timeout: 1_000 }).catch(() => null)) ?? '0', 10);
    await waitFor('the new comments queued at the bus for moderation on the diagram', async () => (await waitingForModeration()) >= written.length, { timeoutMs: 15_000 });
    await shot('moderation-stopped');
    if (engine === 'embedded' && process.env.UPDATE_SCREENSHOT === '1') await flowPictures();
    expect(await pendingInView()).toBe(true);

    await page.getByRole('button', { name: 'Start moderation' }).click();
    await waitFor("moderation's lag back to 0 on the page", async () => (await lagOf('moderation')) === 0, { timeoutMs: 30_000 });
    await waitFor('every verdict in the view', async () => {
      const inView = commentsInView(await queryView(at(4002)));
      return written.every((comment) => inView.get(comment.id)?.status === (/orange/i.test(comment.content) ? 'rejected' : 'approved'));
    }, { timeoutMs: 30_000 });
    expect(await node('moderation').getAttribute('data-state')).toBe('ready');
  });

  if (engine === 'embedded') {
    it('when both pages are checked with axe (WCAG 2 A and AA, contrast included) and at phone width, then they have no serious violation and nothing scrolls sideways', async () => {
      const found: string[] = [];
      for (const [url, width] of [[`${at(3000)}/flow`, 1280], [`${at(3000)}/flow`, 375], [`${at(3000)}/`, 1280], [`${at(3000)}/`, 375]] as const) {
        // The page's own CSP forbids injected scripts, rightly; only this audit's tab steps around it.
        const tab = await browser!.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
        try {
          await tab.goto(url);
          await tab.waitForLoadState('networkidle').catch(() => undefined);
          await tab.addScriptTag({ path: AXE });
          const { violations, rulesPassed } = await tab.evaluate(async () => {
            const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ passes: unknown[]; violations: { id: string; impact: string | null; nodes: unknown[] }[] }> } }).axe;
            const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
            return {
              violations: result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id} (${violation.nodes.length})`),
              rulesPassed: result.passes.length,
            };
          });
          // A page that failed to render would pass every rule vacuously; a rendered one passes many.
          if (rulesPassed < 10) found.push(`${url} at ${width} px: axe found only ${rulesPassed} rules to pass`);
          const overflow = await tab.evaluate(() => {
            const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
            return root.scrollWidth - root.clientWidth;
          });
          found.push(...violations.map((violation) => `${url} at ${width} px: ${violation}`));
          if (overflow > 1) found.push(`${url} at ${width} px scrolls sideways by ${overflow} px`);
        } finally {
          await tab.close();
        }
      }
      expect(found).toEqual([]);
    });

    it('when the break-it panel is used from the keyboard alone, then Tab reaches "Stop moderation" and Enter stops it, and the same for Start', async () => {
      const focusedName = () => page.evaluate(() => {
        const active = (globalThis as unknown as { document: { activeElement: { getAttribute(name: string): string | null; textContent: string | null } | null } }).document.activeElement;
        return active?.getAttribute('aria-label') ?? active?.textContent?.trim() ?? '';
      });
      const tabTo = async (name: string) => {
        await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?(): void } | null } }).document.activeElement?.blur?.());
        for (let presses = 0; presses < 80; presses += 1) {
          await page.keyboard.press('Tab');
          if ((await focusedName()) === name) return presses + 1;
        }
        throw new Error(`Tab never reached "${name}"`);
      };

      expect(await tabTo('Stop moderation')).toBeGreaterThan(0);
      await page.keyboard.press('Enter');
      await waitFor('moderation stopped from the keyboard', async () => (await processOf('moderation')).state === 'stopped', { timeoutMs: 20_000 });
      await waitFor('the start button enabled', async () => page.getByRole('button', { name: 'Start moderation' }).isEnabled(), { timeoutMs: 10_000 });
      expect(await tabTo('Start moderation')).toBeGreaterThan(0);
      await page.keyboard.press('Enter');
      await waitFor('moderation started from the keyboard', async () => (await processOf('moderation')).state === 'ready', { timeoutMs: 20_000 });
    });
  }

  it('when a comment is written while comments is stopped through the supervisor, then the page says it is waiting for comments, and once comments is started it appears once; its trace shows every attempt', async () => {
    const post = await createPost(at(4000), 'Written through a restart');
    const content = 'Typed while comments was stopped';
    const control = (action: 'stop' | 'start') => fetch(`${at(4100)}/processes/comments/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await control('stop')).status).toBe(202);
    await waitFor('comments stopped', async () => (await processOf('comments')).state === 'stopped', { timeoutMs: 20_000 });

    const blog = await browser!.newPage({ viewport: { width: 1000, height: 860 } });
    try {
      await blog.goto(`${at(3000)}/`);
      const card = blog.getByRole('article', { name: 'Written through a restart' });
      const field = card.getByRole('textbox', { name: /Add a comment/ });
      await field.fill(content);
      await field.press('Enter');
      const waiting = card.getByTestId('draft-waiting');
      await waiting.waitFor({ timeout: 10_000 });
      expect(await waiting.textContent()).toMatch(/^Waiting for the comments service \(stopped\); trying again in \d+ s\.$/);
      expect(await field.inputValue()).toBe(content);
      await blog.screenshot({ path: path.join(ARTIFACTS, `blog-${engine}-waiting.png`) });

      expect((await control('start')).status).toBe(202);
      await card.locator('li[data-status="approved"]', { hasText: content }).waitFor({ timeout: 60_000 });
      expect(await card.locator('li', { hasText: content }).count()).toBe(1);
      expect(await field.inputValue()).toBe('');
      expect(await blog.getByRole('alert').count()).toBe(0);
    } finally {
      await blog.close();
      await page.bringToFront();
    }
    const inView = [...commentsInView(await queryView(at(4002))).values()].filter((comment) => comment.content === content);
    expect(inView).toHaveLength(1);

    // The client server recorded each attempt under the write's key; the trace lists them.
    const attemptsOf = async () => {
      const { writes } = await getJson<{ writes: { key: string | null; path: string; status: number }[] }>(`${at(3000)}/flow/api/snapshot`);
      return writes.filter((write) => write.path === `/posts/${post.body.id}/comments`);
    };
    // A snapshot is made at most twice a second: the one that holds the last attempt comes a moment later.
    const attempts = await waitFor('the attempt that stored it in a snapshot', async () => {
      const found = await attemptsOf();
      return found.at(-1)?.status === 201 ? found : undefined;
    }, { timeoutMs: 10_000 });
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((attempt) => attempt.key)).size).toBe(1);
    expect(attempts.at(-1)!.status).toBe(201);
    expect(attempts.slice(0, -1).every((attempt) => attempt.status === 503)).toBe(true);
    await page.getByLabel(/comment id/i).fill(attempts[0]!.key!);
    await page.getByRole('button', { name: /^trace$/i }).click();
    await waitFor('the attempts in the trace', async () => (await page.getByTestId('trace-attempt').count()) === attempts.length, { timeoutMs: 10_000 });
    await waitFor('the comment\'s events in the trace', async () => (await page.getByTestId('trace-step').count()) >= 1, { timeoutMs: 10_000 });
    await shot('retried-write-trace');
    expect(pageErrors).toEqual([]);
  });

  it('when a service is killed with SIGKILL, then the supervisor brings it back and the page shows it ready again', async () => {
    const before = await processOf('query');
    process.kill(before.pid!, 'SIGKILL');

    await waitFor('query restarted by the supervisor', async () => {
      const now = await processOf('query');
      return now.state === 'ready' && now.pid !== before.pid && now.restarts === before.restarts + 1;
    }, { timeoutMs: 30_000 });
    await waitFor('the diagram to show query ready', async () => (await node('query').getAttribute('data-state')) === 'ready', { timeoutMs: 15_000 });
    expect(system.stdout).toMatch(/query/);
    expect(pageErrors).toEqual([]);
  });
});
