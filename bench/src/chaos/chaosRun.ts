import { setTimeout as sleep } from 'node:timers/promises';
import { LocalSystem, NatsNode, SERVICE_NAMES, type EngineName, type ServiceName, type ServiceProcess, waitFor } from '@blog/launcher';
import { ChaosLoad, type WriteRecord } from './chaosLoad';
import { Forger, type ForgeryCount } from './forger';
import { SeededRandom } from './random';
import { wholeView } from '../wholeView';
import { converged, countsOf, verify, type StoredEvent, type Verdict, type ViewPost, type WriteCounts } from './verify';

import type { ChaosSummary, KillTarget } from './chaosReport';
export { formatSummary, type ChaosSummary, type KillTarget } from './chaosReport';

export interface ChaosOptions {
  seed: number;
  /** How long the load and the kills go on. */
  durationSeconds: number;
  /** Clients writing without keys, each write sent once (as curl or the course's client would). */
  clients: number;
  /** Clients writing with Idempotency-Keys and retrying as the page does; their writes must all land, once. */
  keyedClients?: number;
  /** Pause between a restart and the next kill, and how long a killed service stays down, in ms. */
  killGapMs: [number, number];
  downMs: [number, number];
  /** Only these are killed (default: every service, and with NATS its servers). */
  targets?: KillTarget[];
  /** Longest wait for the view to catch up after the last restart. */
  convergeTimeoutSeconds: number;
  onKill?: (target: KillTarget, downMs: number) => void;
  /** `nats`: NATS JetStream with `natsNodes` servers and `replicas` processes of each service; a round kills one of each. */
  engine?: EngineName;
  natsNodes?: number;
  replicas?: number;
  /**
   * Each service its own credential (as in Kubernetes), and a forger that keeps publishing with them
   * what they do not own; none of it may be stored.
   */
  credentials?: boolean;
}

/** One kill of the run: which process, when (ms since the load started) and for how long. */
interface KillRecord {
  process: string;
  atMs: number;
  downMs: number;
}

async function fetchJson<T>(url: string, token?: string): Promise<T> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** One process of the target, at random: a service's replica, or one of the NATS servers. */
function victim(system: LocalSystem, target: KillTarget, random: SeededRandom): ServiceProcess | NatsNode {
  if (target === 'nats') return random.pick(system.nats);
  return random.pick(system.replicas[target]);
}

/**
 * Kills one target after another with SIGKILL, in a shuffled order each round, until the deadline: each
 * service (one replica of it, if it has several) and, with NATS, one of its servers.
 */
async function killRounds(system: LocalSystem, random: SeededRandom, options: ChaosOptions, deadline: number, timeline: KillRecord[]) {
  const targets: KillTarget[] = options.targets ?? (system.nats.length > 0 ? [...SERVICE_NAMES, 'nats'] : [...SERVICE_NAMES]);
  const kills: Partial<Record<KillTarget, number>> = Object.fromEntries(targets.map((name) => [name, 0]));
  const startedAt = Date.now();
  while (Date.now() < deadline) {
    for (const target of random.shuffle(targets)) {
      if (Date.now() >= deadline) break;
      await sleep(random.int(...options.killGapMs));
      const downMs = random.int(...options.downMs);
      options.onKill?.(target, downMs);
      const process = victim(system, target, random);
      const name = system.processes().find((named) => named.process === process)?.name ?? target;
      timeline.push({ process: name, atMs: Date.now() - startedAt, downMs });
      await process.stop('SIGKILL');
      kills[target] = (kills[target] ?? 0) + 1;
      await sleep(downMs);
      await (process instanceof NatsNode ? process.startAfterKill() : process.start());
    }
  }
  return kills;
}

/**
 * What a failed run leaves to go on: the kill timeline, when the writes that did not end right were
 * sent, the durable consumers as the bus reports them, and each process's last lines of output.
 */
async function failureDetail(system: LocalSystem, records: WriteRecord[], views: Record<string, ViewPost>[], timeline: KillRecord[], readToken?: string): Promise<string[]> {
  const pendingIds = new Set(views.flatMap((view) => Object.values(view).flatMap((post) => post.comments.filter((c) => c.status === 'pending').map((c) => c.id))));
  const stuck = records.filter((record) => record.id !== undefined && pendingIds.has(record.id)).map((record) => record.sentAtMs);
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const detail = [
    `kills (s since the load started, down for): ${timeline.map((kill) => `${kill.process} ${seconds(kill.atMs)}+${seconds(kill.downMs)}`).join(', ')}`,
  ];
  if (stuck.length > 0) detail.push(`the pending comments were sent between ${seconds(Math.min(...stuck))} s and ${seconds(Math.max(...stuck))} s`);
  try {
    detail.push(`subscribers: ${JSON.stringify(await fetchJson(`${system.url('event-bus')}/subscribers`, readToken))}`);
  } catch (error) {
    detail.push(`subscribers: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const { name, process } of system.processes()) {
    const lines = process.recentOutput().trim().split('\n').filter(Boolean).slice(-8);
    if (lines.length > 0) detail.push(`${name} last printed:\n      ${lines.join('\n      ')}`);
  }
  return detail;
}

/** Every query replica's view; the run has converged only when each of them has. */
async function views(system: LocalSystem): Promise<Record<string, ViewPost>[]> {
  return Promise.all(system.urls('query').map((url) => wholeView(url)));
}

/**
 * Starts every service as a process, writes posts and comments from several clients while killing
 * services at seeded random moments, then checks the reliability invariants (see verify.ts).
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const random = new SeededRandom(options.seed);
  // Quick redelivery after a restart; the rest is the services' own defaults.
  const system = await LocalSystem.create(
    { RETRY_BASE_MS: '50', RETRY_MAX_MS: '500', NATS_ACK_WAIT_MS: '1000' },
    { engine: options.engine, natsNodes: options.natsNodes, replicas: options.replicas, credentials: options.credentials },
  );
  // Reading the bus's log and positions takes a credential when the bus has them; any will do.
  const readToken = system.credentials?.tokens.query;
  try {
    await system.startAll();
    const load = new ChaosLoad(() => ({ posts: system.urls('posts'), comments: system.urls('comments') }), random);
    load.start(options.clients, options.keyedClients ?? 0);
    const forger = system.credentials
      ? new Forger(system.credentials, () => ({ busUrl: random.pick(system.urls('event-bus')), natsServers: system.nats.map((node) => node.url) }), load.records, random)
      : null;
    forger?.start();
    const timeline: KillRecord[] = [];
    const kills = await killRounds(system, random, options, Date.now() + options.durationSeconds * 1000, timeline);
    const lastRestart = Date.now();
    await load.stop();
    const forgeries = (await forger?.stop()) ?? null;

    let convergeSeconds: number | null = null;
    try {
      await waitFor(
        'every acknowledged write to be final in every query view',
        async () => (await views(system)).every((view) => converged(load.records, view)),
        { timeoutMs: options.convergeTimeoutSeconds * 1000, intervalMs: 200 },
      );
      convergeSeconds = (Date.now() - lastRestart) / 1000;
    } catch {
      // Not converged: verify() below lists what is missing.
    }
    // Late deliveries of unanswered writes may still arrive; let the bus drain before the final look.
    await waitFor('every subscriber to catch up', async () => {
      const status = await fetchJson<{ lag: number }[]>(`${system.url('event-bus')}/subscribers`, readToken);
      return status.every((subscriber) => subscriber.lag === 0);
    }, { timeoutMs: 30_000, intervalMs: 200 }).catch(() => undefined);
    // A read through a server the kills left catching up may break off (the gateway ends the stream
    // rather than send a log with a hole): the checks read again, as a reader would.
    const log = await waitFor('the whole log', () => fetchJson<StoredEvent[]>(`${system.url('event-bus')}/events`, readToken).catch(() => undefined), { timeoutMs: 60_000, intervalMs: 1_000 });
    const finalViews = await waitFor('every view', () => views(system).catch(() => undefined), { timeoutMs: 60_000, intervalMs: 1_000 });
    const verdict = combined(finalViews.map((view) => verify(load.records, view, log)));
    if (forger) {
      const forgedInLog = log.filter((event) => forger.ids.has(event.id)).length;
      if (forgedInLog > 0 || forger.count.stored > 0) {
        verdict.ok = false;
        verdict.problems.push(`${forgedInLog} forged event(s) are in the log (${forger.count.stored} publish(es) of a type the caller does not own were answered as stored)`);
      }
    }
    // Counted on the first query replica's view (verify has checked every replica's).
    const keyed = load.records.filter((record) => record.keyed);
    return {
      seed: options.seed,
      durationSeconds: options.durationSeconds,
      requests: countsOf(load.records.filter((record) => !record.keyed), finalViews[0]!),
      keyedRequests: keyed.length > 0 ? countsOf(keyed, finalViews[0]!) : null,
      kills,
      convergeSeconds,
      logEvents: log.length,
      forgeries,
      verdict,
      failureDetail: verdict.ok ? [] : await failureDetail(system, load.records, finalViews, timeline, readToken),
    };
  } finally {
    await system.stopAll();
  }
}

/** One verdict for all the query replicas: a problem of any of them, named with the replica. */
function combined(verdicts: Verdict[]): Verdict {
  if (verdicts.length === 1) return verdicts[0]!;
  return {
    ok: verdicts.every((verdict) => verdict.ok),
    problems: verdicts.flatMap((verdict, index) => verdict.problems.map((problem) => `query replica ${index + 1}: ${problem}`)),
    unansweredThatAppeared: Math.max(...verdicts.map((verdict) => verdict.unansweredThatAppeared)),
  };
}
