import { DEFAULT_PORTS } from '@blog/contracts';
import type { BusReader, BusSubscriber } from './busReader';
import { readinessOf } from './health';
import type { SupervisorClient } from './supervisor';
import type { FlowHttp, FlowUpstream } from './upstream';
import { FLOW_SERVICES, type DeadLetterView, type FlowEngine, type FlowServiceName, type FlowSnapshot, type SubscriberView, type SupervisorView, type WriteAttempt } from './wire';

export interface FlowSources {
  http: FlowHttp;
  bus: BusReader;
  /** Where each service's `/readyz` is. */
  services: Record<FlowServiceName, FlowUpstream>;
  /** Only in local mode (SUPERVISOR_URL). */
  supervisor: SupervisorClient | null;
  /** The writes the page's server passed on lately; none where nothing records them. */
  writes?: () => WriteAttempt[];
}

const SERVICE_OF_PORT = new Map<number, FlowServiceName>(FLOW_SERVICES.map((name) => [DEFAULT_PORTS[name], name]));

const originOf = (url: string): string | null => {
  try {
    return new URL(url).origin.replace('//localhost:', '//127.0.0.1:');
  } catch {
    return null;
  }
};

/**
 * The service a subscriber delivers to. NATS names its durable consumers after the service
 * (`moderation`, `moderation_retry`); the embedded bus names a subscriber by its URL, which is the
 * service's own (same origin), or a cluster name such as `moderation-srv`, or a default port.
 */
export function serviceOfSubscriber(id: string, services: Record<FlowServiceName, FlowUpstream>): FlowServiceName | null {
  const durable = id.replace(/_retry$/, '');
  if ((FLOW_SERVICES as readonly string[]).includes(durable)) return durable as FlowServiceName;
  const origin = originOf(id);
  if (origin === null) return null;
  for (const name of FLOW_SERVICES) if (originOf(services[name].url) === origin) return name;
  const { hostname, port } = new URL(id);
  for (const name of FLOW_SERVICES) if (hostname.split(/[.-]/).includes(name)) return name;
  return SERVICE_OF_PORT.get(Number(port)) ?? null;
}

/** NATS names durable consumers; the embedded bus names subscribers by URL. */
export function engineOf(subscribers: readonly BusSubscriber[] | null): FlowEngine {
  if (!subscribers || subscribers.length === 0) return 'unknown';
  return subscribers.every((subscriber) => /^https?:\/\//.test(subscriber.url)) ? 'embedded' : 'nats';
}

type Settled<T> = { ok: true; value: T } | { ok: false; reason: string };

async function settle<T>(work: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Builds the snapshot the page shows besides the log, at most once per `maxAgeMs` however many ask:
 * callers at the same moment share one round of reads, so viewers never multiply the load on the services.
 */
export class SnapshotSource {
  private inFlight: Promise<FlowSnapshot> | null = null;
  private cached: { at: number; snapshot: FlowSnapshot } | null = null;

  constructor(
    private readonly sources: FlowSources,
    private readonly options: { maxAgeMs: number; now?: () => number } = { maxAgeMs: 500 },
    /** The newest seq the stream's poller has read, if it runs. */
    private readonly knownLastSeq: () => number | null = () => null,
  ) {}

  get mode(): FlowSnapshot['mode'] {
    return this.sources.supervisor ? 'local' : 'cluster';
  }

  latest(): Promise<FlowSnapshot> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.options.maxAgeMs) return Promise.resolve(this.cached.snapshot);
    if (!this.inFlight) {
      this.inFlight = this.build()
        .then((snapshot) => {
          this.cached = { at: (this.options.now ?? Date.now)(), snapshot };
          return snapshot;
        })
        .finally(() => {
          this.inFlight = null;
        });
    }
    return this.inFlight;
  }

  private async build(): Promise<FlowSnapshot> {
    const { bus, http, services, supervisor } = this.sources;
    const [health, subscribers, deadLetters, processes] = await Promise.all([
      Promise.all(FLOW_SERVICES.map((name) => readinessOf(http, name, services[name]))),
      settle(bus.subscribers()),
      settle(bus.deadLetters()),
      supervisor ? settle(supervisor.processes()) : Promise.resolve(null),
    ]);
    const problems: string[] = [];
    if (!subscribers.ok) problems.push(`Cannot read the subscribers: ${subscribers.reason}.`);
    if (!deadLetters.ok) problems.push(`Cannot read the dead letters: ${deadLetters.reason}.`);
    if (processes && !processes.ok) problems.push(`Cannot reach the local supervisor: ${processes.reason}.`);
    const busSubscribers = subscribers.ok ? subscribers.value : null;
    const views: SubscriberView[] | null = busSubscribers
      ? busSubscribers.map((subscriber) => ({
          id: subscriber.url,
          service: serviceOfSubscriber(subscriber.url, services),
          position: subscriber.position,
          lag: subscriber.lag,
          types: subscriber.types && subscriber.types.length > 0 ? subscriber.types : null,
          deliveries: subscriber.deliveries,
          eventsDelivered: subscriber.eventsDelivered,
          failures: subscriber.failures,
          consecutiveFailures: subscriber.consecutiveFailures,
          lastError: subscriber.lastError,
          lastSuccessAt: subscriber.lastSuccessAt,
          deadLettered: subscriber.deadLettered,
        }))
      : null;
    const supervisorView: SupervisorView | null = processes?.ok ? processes.value : null;
    const ends = (busSubscribers ?? []).map((subscriber) => subscriber.position + subscriber.lag);
    const known = this.knownLastSeq();
    const lastSeq = ends.length > 0 || known !== null ? Math.max(known ?? 0, ...ends) : null;
    return {
      at: new Date((this.options.now ?? Date.now)()).toISOString(),
      mode: this.mode,
      engine: supervisorView?.engine ?? engineOf(busSubscribers),
      lastSeq,
      services: health,
      subscribers: views,
      deadLetters: deadLetters.ok ? (deadLetters.value as DeadLetterView[]) : null,
      supervisor: supervisorView,
      writes: this.sources.writes?.() ?? [],
      problems,
    };
  }
}

/**
 * A service's state in words, as the snapshot has it: the supervisor's view of its process where there is
 * one, else its readiness; null when the snapshot knows nothing better than that it is fine.
 */
export async function serviceStateOf(snapshots: Pick<SnapshotSource, 'latest'>, name: string): Promise<string | null> {
  const snapshot = await snapshots.latest();
  const process = snapshot.supervisor?.processes.find((candidate) => candidate.name === name);
  if (process && process.state !== 'ready') return process.state === 'backing-off' ? 'restarting after a crash' : process.state;
  const health = snapshot.services.find((candidate) => candidate.name === name);
  if (!health || health.state === 'ready') return null;
  return health.reason ? `${health.state}: ${health.reason}` : health.state;
}
