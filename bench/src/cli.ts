/**
 * npm run bench -- [options]
 *
 *   --count N          comments to create (closed loop; default 2000)
 *   --concurrency N    concurrent clients (default 50)
 *   --rate N           instead: N comments per second, open loop, for --duration seconds
 *   --duration S       seconds of the open-loop run (default 10)
 *   --posts N          posts the comments are spread over (default 10)
 *   --warmup N         comments sent and settled first, not measured (default 300; 0 for none)
 *   --no-ceiling       skip the bare-HTTP-server ceiling run
 *   --replay N         instead: time a query restart over a log of N events
 *   --json             print the figures as JSON only
 *   --posts-url URL --comments-url URL --query-url URL --bus-url URL
 *                      measure a running system instead of starting one (all four together);
 *                      BUS_TOKEN is sent to the bus when that system has one
 */
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { measureCeiling } from './ceiling';
import { LocalSystem } from '@blog/launcher';
import { runPipeline, type Targets } from './pipeline';
import { runReplay } from './replay';
import { buildReport, printReport, printReplay } from './report';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '50' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '10' },
    posts: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '300' },
    'no-ceiling': { type: 'boolean', default: false },
    replay: { type: 'string' },
    json: { type: 'boolean', default: false },
    'posts-url': { type: 'string' },
    'comments-url': { type: 'string' },
    'query-url': { type: 'string' },
    'bus-url': { type: 'string' },
  },
});

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number, got ${raw}`);
  return value;
}

function progressBar(total: number, label: string, quiet: boolean) {
  if (quiet || !process.stderr.isTTY) return { tick: (_n?: number) => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {duration_formatted}`, stream: process.stderr }, Presets.shades_classic);
  bar.start(total, 0);
  return { tick: (n?: number) => (n === undefined ? bar.increment() : bar.update(n)), stop: () => bar.stop() };
}

const say = (message: string) => {
  if (!values.json) process.stderr.write(`${message}\n`);
};

async function replayMain(events: number): Promise<number> {
  say(`Writing a log of ${events} events, then timing a query restart over it...`);
  const bar = progressBar(events, 'writing', values.json);
  const result = await runReplay(events, (written) => bar.tick(written));
  bar.stop();
  if (values.json) console.log(JSON.stringify({ replay: result }, null, 2));
  else printReplay(result);
  const rebuilt = result.posts === result.expected.posts && result.comments === result.expected.comments;
  if (!rebuilt) console.error(`replay check FAILED: expected ${result.expected.posts} posts / ${result.expected.comments} comments in the view`);
  return rebuilt ? 0 : 1;
}

async function pipelineMain(): Promise<number> {
  const count = positiveInt('count', values.count)!;
  const concurrency = positiveInt('concurrency', values.concurrency)!;
  const rate = positiveInt('rate', values.rate);
  const duration = positiveInt('duration', values.duration)!;
  const posts = positiveInt('posts', values.posts)!;
  const warmup = values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup)!;
  const urls = [values['posts-url'], values['comments-url'], values['query-url'], values['bus-url']];
  if (urls.some(Boolean) && !urls.every(Boolean)) throw new Error('give all four of --posts-url, --comments-url, --query-url and --bus-url, or none');

  let system: LocalSystem | null = null;
  let targets: Targets;
  if (urls.every(Boolean)) {
    targets = { posts: urls[0]!, comments: urls[1]!, query: urls[2]!, bus: urls[3]!, busToken: process.env.BUS_TOKEN };
  } else {
    say('Starting the five services (durable log in a temporary folder)...');
    system = await LocalSystem.create({ LOG_LEVEL: 'warn' });
    await system.startAll();
    targets = { posts: system.url('posts'), comments: system.url('comments'), query: system.url('query'), bus: system.url('event-bus') };
  }

  try {
    const total = rate ? rate * duration : count;
    say(rate ? `Pipeline: ${rate} comments/s for ${duration} s (open loop)` : `Pipeline: ${count} comments from ${concurrency} concurrent clients`);
    const bar = progressBar(total, 'comments', values.json);
    const pipeline = await runPipeline(targets, system, { count, concurrency, rate, duration, posts, warmup, settleTimeoutMs: 120_000, onProgress: () => bar.tick() });
    bar.stop();

    let ceiling;
    if (!values['no-ceiling']) {
      say('Ceiling: a bare Node HTTP server, same client and load...');
      ceiling = await measureCeiling({ count, concurrency, rate, duration });
    }
    const report = buildReport({ count, concurrency, rate, duration, posts, warmup }, pipeline, ceiling);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else printReport(report);
    const { lost, duplicated, pending, wrongStatus } = pipeline.check;
    return lost + duplicated + pending + wrongStatus === 0 ? 0 : 1;
  } finally {
    await system?.stopAll('SIGTERM');
  }
}

const replayEvents = positiveInt('replay', values.replay);
(replayEvents ? replayMain(replayEvents) : pipelineMain()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
