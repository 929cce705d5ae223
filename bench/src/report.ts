import Table from 'cli-table3';
import type { Sample } from './load';
import type { PipelineResult } from './pipeline';
import type { ReplayResult } from './replay';
import { distribution, type Distribution } from './stats';

export interface Report {
  options: { count: number; concurrency: number; rate?: number; duration: number; posts: number; warmup: number };
  pipeline: {
    acceptedPerSecond: number;
    requestLatencyMs: Distribution;
    settleSeconds: number;
    moderatedPerSecond: number;
    endToEndMs: Distribution;
    busEventsPerSecond: number;
    eventsStored: number;
    check: PipelineResult['check'];
    services: PipelineResult['usage'];
  };
  ceiling?: { requestsPerSecond: number; requestLatencyMs: Distribution };
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const roundDistribution = (d: Distribution): Distribution =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [k, k === 'count' ? v : round(v, 2)])) as unknown as Distribution;

export function buildReport(
  options: Report['options'],
  pipeline: PipelineResult,
  ceiling?: { samples: Sample[]; seconds: number },
): Report {
  const accepted = pipeline.samples.filter((s) => s.status === 201);
  return {
    options,
    pipeline: {
      acceptedPerSecond: round(accepted.length / pipeline.loadSeconds),
      requestLatencyMs: roundDistribution(distribution(accepted.map((s) => s.latencyMs))),
      settleSeconds: round(pipeline.settleSeconds, 3),
      moderatedPerSecond: round(accepted.length / pipeline.settleSeconds),
      endToEndMs: roundDistribution(distribution(pipeline.endToEndMs)),
      busEventsPerSecond: round(pipeline.eventsStored / pipeline.settleSeconds),
      eventsStored: pipeline.eventsStored,
      check: pipeline.check,
      services: pipeline.usage,
    },
    ceiling: ceiling && {
      requestsPerSecond: round(ceiling.samples.filter((s) => s.status === 201).length / ceiling.seconds),
      requestLatencyMs: roundDistribution(distribution(ceiling.samples.map((s) => s.latencyMs))),
    },
  };
}

/** No colours: the tables also go to files and CI logs. */
const PLAIN = { head: [], border: [] };

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export function printReport(report: Report): void {
  const { pipeline, ceiling } = report;
  const figures = new Table({ head: ['figure', 'pipeline', 'bare HTTP ceiling'], style: PLAIN });
  figures.push(
    ['accepted requests/s', pipeline.acceptedPerSecond, ceiling?.requestsPerSecond ?? '-'],
    ['request latency p50 / p99 (ms)', `${pipeline.requestLatencyMs.p50} / ${pipeline.requestLatencyMs.p99}`, ceiling ? `${ceiling.requestLatencyMs.p50} / ${ceiling.requestLatencyMs.p99}` : '-'],
    ['all final in query after (s)', pipeline.settleSeconds, ''],
    ['comments fully moderated/s', pipeline.moderatedPerSecond, ''],
    ['end-to-end p50 / p99 (ms)', `${pipeline.endToEndMs.p50} / ${pipeline.endToEndMs.p99}`, ''],
    ['events through the bus/s', `${pipeline.busEventsPerSecond} (${pipeline.eventsStored} events)`, ''],
  );
  console.log(figures.toString());
  const services = new Table({ head: ['service', 'CPU seconds', 'peak RSS'], style: PLAIN });
  for (const [name, usage] of Object.entries(pipeline.services)) services.push([name, round(usage.cpuSeconds, 2), mb(usage.peakRssBytes)]);
  if (services.length > 0) console.log(services.toString());
  const { accepted, refused, lost, duplicated, pending, wrongStatus } = pipeline.check;
  const ok = lost + duplicated + pending + wrongStatus === 0;
  console.log(`check: ${accepted} accepted, ${refused} refused, ${lost} lost, ${duplicated} duplicated, ${pending} pending, ${wrongStatus} wrong status: ${ok ? 'OK' : 'FAILED'}`);
}

export function printReplay(result: ReplayResult): void {
  const table = new Table({ head: ['replay figure', 'value'], style: PLAIN });
  table.push(
    ['events in the log', result.events],
    ['log size', mb(result.logBytes)],
    ['writing the log (s)', round(result.writeSeconds, 1)],
    ['bus start (s)', round(result.busStartSeconds, 2)],
    ['query ready after replay (s)', round(result.queryReadySeconds, 2)],
    ['posts / comments in the view', `${result.posts} / ${result.comments}`],
    ['bus peak RSS', mb(result.busPeakRssBytes)],
    ['query peak RSS', mb(result.queryPeakRssBytes)],
  );
  console.log(table.toString());
}
