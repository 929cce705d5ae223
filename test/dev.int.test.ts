import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/** `npm run dev`, as the README's Development section gives it: every service from its sources, watched. */
const ROOT = path.resolve(__dirname, '..');
jest.setTimeout(240_000);

let dev: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  if (dev?.pid && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev!.once('exit', resolve));
    process.kill(-dev.pid, 'SIGINT');
    await exited;
  }
  removeTempDirs();
});

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

it('npm run dev starts every service from its sources, with readable logs, and they work together', async () => {
  dev = spawn('npm', ['run', 'dev'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: makeTempDir('dev-run-'), FORCE_COLOR: '0' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ports = [4005, 4000, 4001, 4003, 4002];
  await waitFor('every service to be ready under npm run dev', async () => (await Promise.all(ports.map((p) => ready(`http://localhost:${p}`)))).every(Boolean), {
    timeoutMs: 200_000,
    intervalMs: 500,
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- npm run dev printed:\n${output.slice(-3000)}`);
  });

  const created = await fetch('http://localhost:4000/posts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'From dev' }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await waitFor('the post in query', async () => id in ((await (await fetch('http://localhost:4002/posts')).json()) as object));
  // LOG_FORMAT=pretty: lines for a person, not JSON.
  expect(output).toMatch(/INFO.*posts ready/);
  expect(output).not.toMatch(/^\[posts\] \{"level"/m);
});
