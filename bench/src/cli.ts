/** The pipeline benchmark: `npm run bench -- --help` prints its options (options.ts). */
import type { NatsSync } from '@blog/contracts';
import { SingleBar, Presets } from 'cli-progress';
import { measureCeiling } from './ceiling';
import { LocalSystem, type EngineName } from '@blog/launcher';
import { positiveWholeOption } from '@blog/service-kit';
import { readBenchOptions } from './options';
import { FlowWatchers, type WatchedCounts } from './flowWatchers';
import { runPipeline, type PipelineOptions, type PipelineResult, type Targets } from './pipeline';
import { runReplay } from './replay';
import { buildReport, printComparison, printReport, printReplay, type Report } from './report';

const values = readBenchOptions();

function positiveInt(name: string, raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : positiveWholeOption(name, raw);
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

function engineList(): EngineName[] {
  if (values.engine && values.engines) throw new Error('give --engine or --engines, not both');
  const names = (values.engines ?? values.engine ?? 'embedded').split(',').map((name) => name.trim());
  for (const name of names) if (name !== 'embedded' && name !== 'nats') throw new Error(`unknown engine "${name}": embedded or nats`);
  return names as EngineName[];
}

function natsSync(): NatsSync | undefined {
  const sync = values['nats-sync'];
  if (sync !== undefined && sync !== 'always' && sync !== 'interval') throw new Error(`--nats-sync must be always or interval, not "${sync}"`);
  return sync;
}

type LoadOptions = Pick<PipelineOptions, 'count' | 'concurrency' | 'rate' | 'duration' | 'posts' | 'warmup'>;

function loadOptions(): LoadOptions {
  return {
    count: positiveInt('count', values.count)!,
    concurrency: positiveInt('concurrency', values.concurrency)!,
    rate: positiveInt('rate', values.rate),
    duration: positiveInt('duration', values.duration)!,
    posts: positiveInt('posts', values.posts)!,
    warmup: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup)!,
  };
}

/** How the flow page watches a run: with the client server started, and this many streams open (0: none). */
interface Watching {
  client: boolean;
  watchers: number;
}

/** Starts the system on one engine (or takes the running one the URLs name), runs the load, and reports. */
async function measure(engine: EngineName | null, load: LoadOptions, watching: Watching = { client: false, watchers: 0 }): Promise<PipelineResult & { watched?: WatchedCounts }> {
  let system: LocalSystem | null = null;
  let targets: Targets;
  const urls = [values['posts-url'], values['comments-url'], values['query-url'], values['bus-url']];
  if (!engine) {
    targets = { posts: urls[0]!, comments: [urls[1]!], query: urls[2]!, bus: urls[3]!, busToken: process.env.BUS_TOKEN };
  } else {
    const nats = engine === 'nats' ? { natsNodes: positiveInt('nats-nodes', values['nats-nodes'])!, replicas: positiveInt('replicas', values.replicas)!, natsSync: natsSync() } : {};
    say(
      engine === 'nats'
        ? `Starting the services on NATS JetStream (${nats.natsNodes} server(s), sync ${nats.natsSync ?? 'as chosen'}, ${nats.replicas} process(es) of each service)...`
        : 'Starting the five services on the embedded bus (durable log in a temporary folder)...',
    );
    system = await LocalSystem.create({ LOG_LEVEL: 'warn' }, { engine, ...nats, client: watching.client || watching.watchers > 0 });
    await system.startAll();
    targets = { posts: system.url('posts'), comments: system.urls('comments'), query: system.url('query'), bus: system.url('event-bus') };
  }
  const watchers = system && watching.watchers > 0 ? new FlowWatchers(system.url('client'), watching.watchers) : null;
  try {
    if (watchers) {
      say(`Flow page: ${watching.watchers} stream(s) of /flow/api/stream open through the run`);
      await watchers.start();
    }
    const total = load.rate ? load.rate * load.duration : load.count;
    say(load.rate ? `Pipeline: ${load.rate} comments/s for ${load.duration} s (open loop)` : `Pipeline: ${load.count} comments from ${load.concurrency} concurrent clients`);
    const bar = progressBar(total, 'comments', values.json);
    const pipeline = await runPipeline(targets, system, { ...load, settleTimeoutMs: 120_000, onProgress: () => bar.tick() });
    bar.stop();
    return watchers ? { ...pipeline, watched: watchers.stop() } : pipeline;
  } finally {
    watchers?.stop();
    await system?.stopAll('SIGTERM');
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

/**
 * The same load, alternately without and with the flow page's streams open (both with the client server
 * running), so the machine's drift hits both alike; prints each run and the medians side by side.
 */
async function watchCompareMain(watchers: number): Promise<number> {
  const load = loadOptions();
  const [engine] = engineList();
  const rounds = positiveInt('rounds', values.rounds)!;
  const runs: { watchers: number; report: Report; watched?: WatchedCounts }[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    // ABBA: the order flips every round, so whatever the first or second run of a pair meets (a cold
    // cache, the previous run's clean-up) falls on both sides alike.
    for (const count of round % 2 === 1 ? [0, watchers] : [watchers, 0]) {
      say(`Round ${round} of ${rounds}: ${count === 0 ? 'nobody watching' : `${count} flow-page stream(s) open`}`);
      const result = await measure(engine!, load, { client: true, watchers: count });
      runs.push({ watchers: count, report: buildReport(load, result), watched: result.watched });
    }
  }
  const side = (count: number) => {
    const mine = runs.filter((run) => run.watchers === count).map((run) => run.report.pipeline);
    return {
      acceptedPerSecond: median(mine.map((p) => p.acceptedPerSecond)),
      requestP50Ms: median(mine.map((p) => p.requestLatencyMs.p50)),
      requestP99Ms: median(mine.map((p) => p.requestLatencyMs.p99)),
      endToEndP50Ms: median(mine.map((p) => p.endToEndMs.p50)),
      moderatedPerSecond: median(mine.map((p) => p.moderatedPerSecond)),
    };
  };
  const unwatched = side(0);
  const watched = side(watchers);
  const ratio = watched.acceptedPerSecond / unwatched.acceptedPerSecond;
  const summary = {
    engine,
    rounds,
    watchers,
    runs: runs.map((run) => ({ watchers: run.watchers, acceptedPerSecond: run.report.pipeline.acceptedPerSecond, requestP99Ms: run.report.pipeline.requestLatencyMs.p99, streamMessages: run.watched?.messages ?? 0, streamEvents: run.watched?.events ?? 0 })),
    median: { unwatched, watched },
    watchedThroughputRatio: Number(ratio.toFixed(3)),
  };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else {
    for (const run of summary.runs) console.log(`${run.watchers === 0 ? 'unwatched' : `watched by ${run.watchers}`}: ${run.acceptedPerSecond} comments/s, request p99 ${run.requestP99Ms} ms${run.watchers ? `, ${run.streamEvents} events streamed (${run.streamMessages} messages in all)` : ''}`);
    console.log(`median of ${rounds}: unwatched ${unwatched.acceptedPerSecond} comments/s (p99 ${unwatched.requestP99Ms} ms, end to end p50 ${unwatched.endToEndP50Ms} ms); watched ${watched.acceptedPerSecond} comments/s (p99 ${watched.requestP99Ms} ms, end to end p50 ${watched.endToEndP50Ms} ms)`);
    console.log(`watched / unwatched throughput: ${summary.watchedThroughputRatio}`);
  }
  return runs.some((run) => failedCheck(run.report)) ? 1 : 0;
}

const failedCheck = (report: Report) => {
  const { lost, duplicated, pending, wrongStatus } = report.pipeline.check;
  return lost + duplicated + pending + wrongStatus > 0;
};

async function pipelineMain(): Promise<number> {
  const load = loadOptions();
  const urls = [values['posts-url'], values['comments-url'], values['query-url'], values['bus-url']];
  if (urls.some(Boolean) && !urls.every(Boolean)) throw new Error('give all four of --posts-url, --comments-url, --query-url and --bus-url, or none');
  const engines: (EngineName | null)[] = urls.every(Boolean) ? [null] : engineList();

  const watchers = values.watch === '0' ? 0 : positiveInt('watch', values.watch)!;
  const pipelines: [string, PipelineResult][] = [];
  for (const engine of engines) pipelines.push([engine ?? 'running system', await measure(engine, load, { client: watchers > 0, watchers })]);
  let ceiling: Awaited<ReturnType<typeof measureCeiling>> | undefined;
  if (!values['no-ceiling']) {
    say('Ceiling: a bare Node HTTP server, same client and load...');
    ceiling = await measureCeiling(load);
  }
  const reports: Record<string, Report> = Object.fromEntries(pipelines.map(([name, pipeline]) => [name, buildReport(load, pipeline, ceiling)]));
  if (engines.length === 1) {
    const report = Object.values(reports)[0]!;
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else printReport(report);
  } else if (values.json) console.log(JSON.stringify({ engines: reports }, null, 2));
  else printComparison(reports);
  return Object.values(reports).some(failedCheck) ? 1 : 0;
}

const replayEvents = positiveInt('replay', values.replay);
const compareWatchers = positiveInt('watch-compare', values['watch-compare']);
(replayEvents ? replayMain(replayEvents) : compareWatchers ? watchCompareMain(compareWatchers) : pipelineMain()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
