import type { Lifecycle, Logger } from '@blog/service-kit';
import { BusReader } from './busReader';
import { FlowHub } from './flowHub';
import type { FlowHubLimits } from './flowHubLimits';
import type { FlowDeps } from './flowRoutes';
import { SnapshotSource } from './snapshot';
import { SupervisorClient } from './supervisor';
import { FlowHttp } from './upstream';
import type { FlowServiceName, WriteAttempt } from './wire';

export { flowRoutes, OPERATOR_TOKEN_HEADER, type FlowDeps } from './flowRoutes';
export { FlowHub } from './flowHub';
export { DEFAULT_FLOW_HUB_LIMITS, type FlowHubLimits } from './flowHubLimits';
export { isLoopbackUrl, kubectlCommands } from './supervisor';
export { serviceStateOf } from './snapshot';

export interface FlowOptions {
  lifecycle: Lifecycle;
  logger: Logger;
  /** Each service's origin (the bus's is also where the log and the subscribers are read). */
  urls: Record<FlowServiceName, string>;
  /** The client's own read-only bus credential, where the bus checks credentials. */
  busToken?: string;
  /** The local supervisor, on loopback; unset in a cluster. */
  supervisorUrl?: string;
  connectTimeoutMs: number;
  /** Longest wait for one of the flow page's reads. */
  timeoutMs: number;
  limits?: Partial<FlowHubLimits>;
  /** A snapshot younger than this is answered again rather than built anew. */
  snapshotMaxAgeMs?: number;
  /** The writes the page's server passed on lately, shown in the traces. */
  writes?: () => WriteAttempt[];
}

export interface Flow extends FlowDeps {
  close(): Promise<void>;
}

/** Everything behind `/flow/api`: one HTTP client, the bus reader, the snapshot, the shared stream. */
export function createFlow(options: FlowOptions): Flow {
  const http = new FlowHttp({ connectTimeoutMs: options.connectTimeoutMs, timeoutMs: options.timeoutMs });
  const bus = new BusReader(http, options.urls['event-bus'], options.busToken);
  const supervisor = options.supervisorUrl ? new SupervisorClient(http, options.supervisorUrl) : null;
  const services = Object.fromEntries(Object.entries(options.urls).map(([name, url]) => [name, { name, url }])) as Record<
    FlowServiceName,
    { name: string; url: string }
  >;
  let hub: FlowHub | null = null;
  const snapshots = new SnapshotSource({ http, bus, services, supervisor, writes: options.writes }, { maxAgeMs: options.snapshotMaxAgeMs ?? 500 }, () => hub?.knownLastSeq ?? null);
  hub = new FlowHub({ bus, snapshots, lifecycle: options.lifecycle, logger: options.logger, limits: options.limits });
  const theHub = hub;
  return {
    bus,
    snapshots,
    hub: theHub,
    supervisor,
    close: async () => {
      theHub.close();
      await http.close();
    },
  };
}
