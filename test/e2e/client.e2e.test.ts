/**
 * The page in a real browser: Debian's Chromium, driven by playwright-core, against the whole system run
 * as real processes (the five services and the client server), as a person would use it.
 *
 * Never downloads a browser. Without /usr/bin/chromium (or CHROMIUM_PATH) it fails, saying how to install it.
 * Leaves a screenshot of the final page in artifacts/e2e/ (git-ignored). The README's pictures are taken
 * by flow.e2e.test.ts, of an ordinary blog rather than this test's hostile input.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { LocalSystem } from '../support/localSystem';

const ROOT = path.resolve(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e');
const BUILT_PAGE = path.join(ROOT, 'client', 'web', 'dist', 'index.html');
/** Flags for a machine with no network but loopback: no background calls home, no sandbox as root, no GPU. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
/** What the page's `window` is asked about (this file is type-checked without the DOM's types). */
interface PageGlobals {
  __sameLoad?: boolean;
  __pwned?: unknown;
  scrollTo(x: number, y: number): void;
}
const XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">';

jest.setTimeout(60_000);

let system: LocalSystem | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

function requireChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  throw new Error(
    `The browser test needs Debian's Chromium at ${CHROMIUM}, and it is missing.\n` +
      'Install it (as root): apt-get update && apt-get install -y chromium\n' +
      '(.ci/run does this; CHROMIUM_PATH points the test at another Chromium. No browser is ever downloaded.)',
  );
}

beforeAll(async () => {
  requireChromium();
  if (!fs.existsSync(BUILT_PAGE)) throw new Error(`${BUILT_PAGE} is missing: run "npm run build" first`);
  system = await LocalSystem.create({}, { client: true });
  await system.startAll();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1000, height: 860 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // The browser logs every refused request; those are expected while a service is down.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
  });
});

afterAll(async () => {
  try {
    if (page && !page.isClosed()) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'client-final.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'client-phone.png'), fullPage: true });
      await page.setViewportSize({ width: 1000, height: 860 });
    }
  } finally {
    await browser?.close();
    await system?.stopAll();
  }
});

const card = (title: string): Locator => page.getByRole('article', { name: title });
const commentField = (post: Locator): Locator => post.getByRole('textbox', { name: /Add a comment/ });
const banner = (): Locator => page.getByRole('alert');

/** Types a comment and sends it with Enter, as a person would once the previous one has gone. */
async function addComment(post: Locator, text: string): Promise<void> {
  await post.getByRole('button', { name: 'Comment' }).waitFor();
  await commentField(post).fill(text);
  await commentField(post).press('Enter');
}

describe('the blog in a browser', () => {
  const title = 'Hello from Chromium';

  it('when the page is opened, then the client serves it, it is empty and it goes live', async () => {
    await page.goto(system!.url('client'));
    await page.getByText('No posts yet. Write the first one above.').waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    // Marks this page load: a reload would lose it, so later steps can prove nothing reloaded.
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).__sameLoad = true));
  });

  it('when a post is created with the keyboard, then its card appears', async () => {
    const field = page.getByLabel('New post');
    await field.fill(title);
    await field.press('Enter');
    await card(title).waitFor();
    await expectValue(field, '');
  });

  it('when an approved and a rejected comment are added, then both end in the right state without a reload', async () => {
    const post = card(title);
    await addComment(post, 'What a lovely post');
    await addComment(post, 'I like oranges');
    await post.locator('li[data-status="approved"]', { hasText: 'What a lovely post' }).waitFor();
    await post.locator('li[data-status="rejected"]', { hasText: 'Rejected by moderation' }).waitFor();
    expect(await post.locator('li').allTextContents()).toEqual(['What a lovely post', 'Rejected by moderation']);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sameLoad)).toBe(true);
  });

  it('when the comments service is down, then a new comment waits, saying for what, and keeps its text', async () => {
    await system!.services.comments.stop('SIGKILL');
    const post = card(title);
    await addComment(post, 'Is anyone there?');
    const waiting = post.getByTestId('draft-waiting');
    await waiting.waitFor();
    expect(await waiting.textContent()).toMatch(/^Waiting for the comments service \(down: .+\); trying again in \d+ s\.$/);
    await expectValue(commentField(post), 'Is anyone there?');
    expect(await post.locator('li').count()).toBe(3);
    expect(await banner().count()).toBe(0);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'client-service-down.png') });
  });

  it('when the comments service is back, then the waiting comment lands by itself, once', async () => {
    await system!.services.comments.start();
    const post = card(title);
    await post.locator('li[data-status="approved"]', { hasText: 'Is anyone there?' }).waitFor({ timeout: 30_000 });
    await expectValue(commentField(post), '');
    expect(await post.locator('li', { hasText: 'Is anyone there?' }).count()).toBe(1);
    expect(await banner().count()).toBe(0);
  });

  it('when a comment holds a script and an image with onerror, then it is shown as text and nothing runs', async () => {
    const post = card(title);
    await addComment(post, XSS);
    const shown = post.locator('li[data-status="approved"]').last();
    await expect_(async () => (await shown.textContent()) === XSS, 'the script comment to be approved and shown');
    expect(await post.locator('li img, li script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sameLoad)).toBe(true);
  });

  it('when it is all done, then the page threw nothing and broke no policy', () => {
    expect(pageErrors).toEqual([]);
  });
});

async function expectValue(field: Locator, value: string): Promise<void> {
  await expect_(async () => (await field.inputValue()) === value, `the field to hold ${JSON.stringify(value)}`);
}

/** Waits up to 10 s for `check`, then fails with `description`. */
async function expect_(check: () => Promise<boolean>, description: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
