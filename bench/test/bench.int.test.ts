import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { LocalSystem } from '@blog/launcher';
import { distribution, percentile } from '../src/stats';

jest.setTimeout(120_000);

const CLI = path.resolve(__dirname, '../dist/cli.js');

function bench(...args: string[]) {
  return benchWithEnv(process.env, ...args);
}

function benchWithEnv(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8', env });
  if (result.status === null) throw new Error(`bench did not finish: ${result.stderr}`);
  return { status: result.status, report: result.stdout ? JSON.parse(result.stdout) : null, stderr: result.stderr };
}

describe('npm run bench, at a small size', () => {
  it('when comments are sent from concurrent clients, then every one is accepted, moderated once and none is lost', () => {
    const { status, report, stderr } = bench('--count', '150', '--concurrency', '10', '--warmup', '20', '--posts', '3');

    expect({ status, stderr }).toMatchObject({ status: 0 });
    expect(report.pipeline.check).toEqual({ accepted: 150, refused: 0, lost: 0, duplicated: 0, pending: 0, wrongStatus: 0 });
    // Three events per comment (created, moderated, updated) pass through the bus.
    expect(report.pipeline.eventsStored).toBe(450);
    expect(report.pipeline.endToEndMs.count).toBe(150);
    expect(report.pipeline.requestLatencyMs.p99).toBeGreaterThan(0);
    expect(report.ceiling.requestsPerSecond).toBeGreaterThan(0);
    expect(Object.keys(report.pipeline.services).sort()).toEqual(['comments', 'event-bus', 'moderation', 'posts', 'query']);
  });

  it('when run at a fixed arrival rate, then it sends rate x duration comments and all settle', () => {
    const { status, report } = bench('--rate', '40', '--duration', '2', '--warmup', '0', '--no-ceiling');
    expect(status).toBe(0);
    expect(report.pipeline.check.accepted).toBe(80);
    expect(report.ceiling).toBeUndefined();
  });

  it('when asked to replay, then query rebuilds exactly the posts and comments the log holds', () => {
    const { status, report } = bench('--replay', '3000');
    expect(status).toBe(0);
    expect(report.replay.events).toBe(3000);
    expect({ posts: report.replay.posts, comments: report.replay.comments }).toEqual(report.replay.expected);
  });

  it('when an option is not a positive number, then it refuses to run', () => {
    const result = spawnSync(process.execPath, [CLI, '--count', 'many'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--count must be a positive whole number/);
  });
});

describe('npm run bench, against a system that is already running', () => {
  let system: LocalSystem;
  let urls: string[];
  // The bench only reads the bus (its log's end, the subscribers' positions): any credential will do.
  let BUS_TOKEN: string;

  beforeAll(async () => {
    system = await LocalSystem.create({}, { credentials: true });
    BUS_TOKEN = system.credentials!.tokens.operator;
    await system.startAll();
    urls = [
      '--posts-url', system.url('posts'),
      '--comments-url', system.url('comments'),
      '--query-url', system.url('query'),
      '--bus-url', system.url('event-bus'),
    ];
  });
  afterAll(() => system.stopAll());

  it('when given its four URLs and a bus token, then it measures that system instead of starting one', () => {
    const { status, report, stderr } = benchWithEnv({ ...process.env, BUS_TOKEN }, ...urls, '--count', '60', '--concurrency', '5', '--warmup', '0', '--posts', '2', '--no-ceiling');

    expect({ status, stderr }).toMatchObject({ status: 0 });
    expect(report.pipeline.check).toEqual({ accepted: 60, refused: 0, lost: 0, duplicated: 0, pending: 0, wrongStatus: 0 });
    expect(report.pipeline.eventsStored).toBe(180);
    // It did not start these processes, so it has no CPU or memory figures for them.
    expect(report.pipeline.services).toEqual({});
  });

  it('when that bus has a token and none is given, then it stops with a message naming the refusal', () => {
    const { BUS_TOKEN: _unset, ...envWithoutToken } = process.env;
    const { status, stderr } = benchWithEnv(envWithoutToken, ...urls, '--count', '5', '--warmup', '0', '--posts', '1', '--no-ceiling');
    expect(status).toBe(2);
    expect(stderr).toMatch(/subscribers answered 401/);
  });

  it('when only some of the four URLs are given, then it refuses to run', () => {
    const { status, stderr } = bench('--posts-url', system.url('posts'));
    expect(status).toBe(2);
    expect(stderr).toMatch(/give all four of --posts-url, --comments-url, --query-url and --bus-url/);
  });
});

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(distribution([5, 1, 3])).toEqual({ count: 3, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 });
  });
});
