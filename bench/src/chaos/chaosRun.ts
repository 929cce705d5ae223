import { LocalSystem, SERVICE_NAMES, type ServiceName, waitFor } from '@blog/launcher';
import { ChaosLoad } from './chaosLoad';
import { SeededRandom } from './random';
import { converged, verify, type StoredEvent, type Verdict, type ViewPost } from './verify';

export interface ChaosOptions {
  seed: number;
  /** How long the load and the kills go on. */
  durationSeconds: number;
  clients: number;
  /** Pause between a restart and the next kill, and how long a killed service stays down, in ms. */
  killGapMs: [number, number];
  downMs: [number, number];
  /** Longest wait for the view to catch up after the last restart. */
  convergeTimeoutSeconds: number;
  onKill?: (service: ServiceName, downMs: number) => void;
}

export interface ChaosSummary {
  seed: number;
  durationSeconds: number;
  requests: { sent: number; acknowledged: number; refused: number; unanswered: number; unansweredThatAppeared: number };
  refusedByStatus: Record<string, number>;
  kills: Record<ServiceName, number>;
  /** From the last restart to every acknowledged write final in the view; null when it never got there. */
  convergeSeconds: number | null;
  logEvents: number;
  verdict: Verdict;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Kills one service after another with SIGKILL, in a shuffled order each round, until the deadline. */
async function killRounds(system: LocalSystem, random: SeededRandom, options: ChaosOptions, deadline: number) {
  const kills = Object.fromEntries(SERVICE_NAMES.map((name) => [name, 0])) as Record<ServiceName, number>;
  while (Date.now() < deadline) {
    for (const name of random.shuffle(SERVICE_NAMES)) {
      if (Date.now() >= deadline) break;
      await sleep(random.int(...options.killGapMs));
      const downMs = random.int(...options.downMs);
      options.onKill?.(name, downMs);
      await system.services[name].stop('SIGKILL');
      kills[name] += 1;
      await sleep(downMs);
      await system.services[name].start();
    }
  }
  return kills;
}

/**
 * Starts every service as a process, writes posts and comments from several clients while killing
 * services at seeded random moments, then checks the reliability invariants (see verify.ts).
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const random = new SeededRandom(options.seed);
  // Quick redelivery after a restart; the rest is the services' own defaults.
  const system = await LocalSystem.create({ RETRY_BASE_MS: '50', RETRY_MAX_MS: '500' });
  try {
    await system.startAll();
    const load = new ChaosLoad(() => ({ posts: system.url('posts'), comments: system.url('comments') }), random);
    load.start(options.clients);
    const kills = await killRounds(system, random, options, Date.now() + options.durationSeconds * 1000);
    const lastRestart = Date.now();
    await load.stop();

    let view: Record<string, ViewPost> = {};
    let convergeSeconds: number | null = null;
    try {
      await waitFor(
        'every acknowledged write to be final in the query view',
        async () => {
          view = await fetchJson<Record<string, ViewPost>>(`${system.url('query')}/posts`);
          return converged(load.records, view);
        },
        { timeoutMs: options.convergeTimeoutSeconds * 1000, intervalMs: 200 },
      );
      convergeSeconds = (Date.now() - lastRestart) / 1000;
    } catch {
      // Not converged: verify() below lists what is missing.
    }
    // Late deliveries of unanswered writes may still arrive; let the bus drain before the final look.
    await waitFor('every subscriber to catch up', async () => {
      const status = await fetchJson<{ lag: number }[]>(`${system.url('event-bus')}/subscribers`);
      return status.every((subscriber) => subscriber.lag === 0);
    }, { timeoutMs: 30_000, intervalMs: 200 }).catch(() => undefined);
    view = await fetchJson<Record<string, ViewPost>>(`${system.url('query')}/posts`);
    const log = await fetchJson<StoredEvent[]>(`${system.url('event-bus')}/events`);
    const verdict = verify(load.records, view, log);
    const count = (outcome: string) => load.records.filter((r) => r.outcome === outcome).length;
    const refusedByStatus: Record<string, number> = {};
    for (const record of load.records.filter((r) => r.outcome === 'refused')) {
      refusedByStatus[String(record.status)] = (refusedByStatus[String(record.status)] ?? 0) + 1;
    }
    return {
      seed: options.seed,
      durationSeconds: options.durationSeconds,
      requests: {
        sent: load.records.length,
        acknowledged: count('acknowledged'),
        refused: count('refused'),
        unanswered: count('unanswered'),
        unansweredThatAppeared: verdict.unansweredThatAppeared,
      },
      refusedByStatus,
      kills,
      convergeSeconds,
      logEvents: log.length,
      verdict,
    };
  } finally {
    await system.stopAll();
  }
}

export function formatSummary(summary: ChaosSummary): string {
  const { requests, kills } = summary;
  const lines = [
    `chaos run: seed ${summary.seed}, ${summary.durationSeconds} s of load and kills`,
    `requests: ${requests.sent} sent, ${requests.acknowledged} acknowledged (201), ${requests.refused} refused ` +
      `(${Object.entries(summary.refusedByStatus).map(([status, n]) => `${n}x ${status}`).join(', ') || 'none'}), ` +
      `${requests.unanswered} unanswered (${requests.unansweredThatAppeared} of them appeared, once each)`,
    `kills: ${Object.entries(kills).map(([name, n]) => `${name} ${n}`).join(', ')} (${Object.values(kills).reduce((a, b) => a + b, 0)} in all)`,
    `converged ${summary.convergeSeconds === null ? 'never' : `${summary.convergeSeconds.toFixed(1)} s`} after the last restart; ${summary.logEvents} events in the log`,
    `verdict: ${summary.verdict.ok ? 'OK' : 'FAILED'}`,
    ...summary.verdict.problems.map((problem) => `  - ${problem}`),
  ];
  if (!summary.verdict.ok) lines.push(`replay with: npm run chaos -- --seed ${summary.seed} --duration ${summary.durationSeconds}`);
  return lines.join('\n');
}
