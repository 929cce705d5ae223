import type { ServiceName } from '@blog/launcher';
import type { ForgeryCount } from './forger';
import type { Verdict, WriteCounts } from './verify';

/** What a kill hits: a service (one of its replicas, when it has several), or a NATS server. */
export type KillTarget = ServiceName | 'nats';

export interface ChaosSummary {
  seed: number;
  durationSeconds: number;
  /** The clients without keys' writes, and the keyed clients' (null when the run had none). */
  requests: WriteCounts;
  keyedRequests: WriteCounts | null;
  kills: Partial<Record<KillTarget, number>>;
  /** From the last restart to every acknowledged write final in the view; null when it never got there. */
  convergeSeconds: number | null;
  logEvents: number;
  /** With credentials: the forged publishes and what became of them. */
  forgeries: ForgeryCount | null;
  verdict: Verdict;
  /**
   * Only when the verdict failed: what to look at next. The kills with their times, when the writes
   * that went wrong were sent, the durable consumers' state and each process's last lines of output.
   */
  failureDetail: string[];
}

/** One line per kind of client: what its writes came to. */
function countsLine(label: string, counts: WriteCounts): string {
  const refused = Object.entries(counts.refusedByStatus).map(([status, n]) => `${n}x ${status}`).join(', ') || 'none';
  return (
    `${label}: ${counts.sent} writes, ${counts.acknowledged} acknowledged (201), ${counts.refused} refused (${refused}), ` +
    `${counts.unanswered} unanswered (${counts.unansweredThatAppeared} of them appeared); ${counts.duplicated} duplicated, ${counts.lost} lost; ${counts.retries} retries`
  );
}

/** The run as a person reads it: each kind of client's writes, the kills, the convergence, the verdict. */
export function formatSummary(summary: ChaosSummary): string {
  const { kills } = summary;
  const lines = [
    `chaos run: seed ${summary.seed}, ${summary.durationSeconds} s of load and kills`,
    countsLine('without keys (each write sent once)', summary.requests),
    ...(summary.keyedRequests ? [countsLine('with keys (retried as the page does)', summary.keyedRequests)] : []),
    `kills: ${Object.entries(kills).map(([name, n]) => `${name} ${n}`).join(', ')} (${Object.values(kills).reduce((a, b) => a + b, 0)} in all)`,
    `converged ${summary.convergeSeconds === null ? 'never' : `${summary.convergeSeconds.toFixed(1)} s`} after the last restart; ${summary.logEvents} events in the log`,
    ...(summary.forgeries
      ? [`forgeries (a credential publishing what it does not own): ${summary.forgeries.sent} sent, ${summary.forgeries.refused} refused, ${summary.forgeries.unreachable} found nothing up, ${summary.forgeries.stored} stored`]
      : []),
    `verdict: ${summary.verdict.ok ? 'OK' : 'FAILED'}`,
    ...summary.verdict.problems.map((problem) => `  - ${problem}`),
  ];
  if (!summary.verdict.ok) lines.push('what to look at:', ...summary.failureDetail.map((detail) => `  ${detail}`));
  if (!summary.verdict.ok) lines.push(`replay with: npm run chaos -- --seed ${summary.seed} --duration ${summary.durationSeconds}`);
  return lines.join('\n');
}
