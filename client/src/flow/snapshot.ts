import { BLOG_SERVICES, EVENTS_HANDLED } from '@blog/contracts';
import type { BusReader, BusSubscriber } from './busReader';
import { readinessOf } from './health';
import type { SupervisorClient } from './supervisor';
import type { FlowHttp, FlowUpstream } from './upstream';
import { FLOW_SERVICES, type DeadLetterView, type FlowServiceName, type FlowSnapshot, type SubscriberView, type SupervisorView, type WriteAttempt } from './wire';

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

/** The service a subscriber delivers to: the bus names it (its SUBSCRIBERS name, a NATS consumer's own). */
function serviceOf(subscriber: BusSubscriber): FlowServiceName | null {
  return (FLOW_SERVICES as readonly (string | null)[]).includes(subscriber.name) ? (subscriber.name as FlowServiceName) : null;
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
    const [health, subscribers, logEnd, deadLetters, processes] = await Promise.all([
      Promise.all(FLOW_SERVICES.map((name) => readinessOf(http, name, services[name]))),
      settle(bus.subscribers()),
      settle(bus.lastSeq()),
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
          service: serviceOf(subscriber),
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
    const known = this.knownLastSeq();
    const lastSeq = logEnd.ok || known !== null ? Math.max(known ?? 0, logEnd.ok ? logEnd.value : 0) : null;
    const engine = supervisorView?.engine ?? busSubscribers?.find((subscriber) => subscriber.engine)?.engine ?? 'unknown';
    return {
      at: new Date((this.options.now ?? Date.now)()).toISOString(),
      mode: this.mode,
      engine,
      lastSeq,
      services: health,
      subscribers: views,
      streamReaders: engine === 'nats' ? STREAM_READERS : [],
      deadLetters: deadLetters.ok ? (deadLetters.value as DeadLetterView[]) : null,
      supervisor: supervisorView,
      writes: this.sources.writes?.() ?? [],
      problems,
    };
  }
}

/** The services that keep state: on NATS each reads the stream itself for the types it applies. */
const STREAM_READERS: FlowSnapshot['streamReaders'] = BLOG_SERVICES.filter((service) => EVENTS_HANDLED[service].applies.length > 0).map((service) => ({
  service,
  types: [...EVENTS_HANDLED[service].applies],
}));

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
