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

/** The same figures for several engines, a column each, then every process's CPU and memory. */
export function printComparison(reports: Record<string, Report>): void {
  const names = Object.keys(reports);
  const column = (figure: (report: Report['pipeline']) => string | number) => names.map((name) => figure(reports[name]!.pipeline));
  const figures = new Table({ head: ['figure', ...names], style: PLAIN });
  figures.push(
    ['accepted requests/s', ...column((p) => p.acceptedPerSecond)],
    ['request latency p50 / p99 (ms)', ...column((p) => `${p.requestLatencyMs.p50} / ${p.requestLatencyMs.p99}`)],
    ['all final in query after (s)', ...column((p) => p.settleSeconds)],
    ['comments fully moderated/s', ...column((p) => p.moderatedPerSecond)],
    ['end-to-end p50 / p99 (ms)', ...column((p) => `${p.endToEndMs.p50} / ${p.endToEndMs.p99}`)],
    ['events stored/s', ...column((p) => `${p.busEventsPerSecond} (${p.eventsStored} events)`)],
    ['CPU seconds, all processes', ...column((p) => round(Object.values(p.services).reduce((sum, usage) => sum + usage.cpuSeconds, 0), 2))],
    ['check', ...column((p) => (p.check.lost + p.check.duplicated + p.check.pending + p.check.wrongStatus === 0 ? 'OK' : 'FAILED'))],
  );
  console.log(figures.toString());
  for (const name of names) {
    const services = new Table({ head: [`${name}: process`, 'CPU seconds', 'peak RSS'], style: PLAIN });
    for (const [process, usage] of Object.entries(reports[name]!.pipeline.services)) services.push([process, round(usage.cpuSeconds, 2), mb(usage.peakRssBytes)]);
    console.log(services.toString());
  }
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
