/**
 * What the flow API answers, as the page reads it. No runtime imports: the web page imports this file
 * too, so the server and the page cannot drift apart (and the contracts' index would bring zod into it).
 */
import type { DeadLetter, ProcessName, ServiceName } from '@blog/contracts';

/**
 * The processes the flow page draws: the contracts' SERVICE_NAMES, written out for the page's bundle.
 * The compiler holds the two together: a service missing here, or one that is not there, fails the build.
 */
export const FLOW_SERVICES = ['event-bus', 'posts', 'comments', 'moderation', 'query'] as const satisfies readonly ServiceName[];
export type FlowServiceName = (typeof FLOW_SERVICES)[number];
const everyService: [Exclude<ServiceName, FlowServiceName>] extends [never] ? true : never = true;
void everyService;

/** `local`: a supervisor runs the processes and the page may stop and start them. `cluster`: Kubernetes does. */
export type FlowMode = 'local' | 'cluster';
export type FlowEngine = 'embedded' | 'nats' | 'unknown';

/** One stored event as the bus serves it: a CloudEvent plus `seq`. */
export interface FlowEvent {
  seq: number;
  id: string;
  source: string;
  type: string;
  time: string;
  specversion?: string;
  datacontenttype?: string;
  /** The id of the HTTP request that caused it (a CloudEvents extension attribute). */
  requestid?: string;
  data?: unknown;
  /** Set when the event was too large to stream whole: its data is left out (GET /flow/api/events has it). */
  truncated?: boolean;
}

/** A service's `/readyz` answer: ready, alive but not ready (with why), or not answering at all. */
export interface ServiceHealth {
  name: FlowServiceName;
  state: 'ready' | 'not-ready' | 'down';
  /** Why it is not ready or down, in words; null when ready. */
  reason: string | null;
}

/** One subscriber as the bus's `GET /subscribers` shows it, with the service it belongs to. */
export interface SubscriberView {
  /** As the bus names it: the delivery URL (embedded) or the durable consumer (NATS); retries name it so. */
  id: string;
  /** The service it delivers to, when it can be told. */
  service: FlowServiceName | null;
  position: number;
  lag: number;
  /** Event types it receives; null for every type. */
  types: string[] | null;
  deliveries: number;
  eventsDelivered: number;
  failures: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastSuccessAt: string | null;
  deadLettered: number;
}

/** A dead letter as the bus lists it. */
export type DeadLetterView = DeadLetter;

export type { ProcessName };
export type ProcessState = 'starting' | 'ready' | 'crashed' | 'backing-off' | 'stopping' | 'stopped';

/** One process as the local supervisor runs it. */
export interface ProcessView {
  name: ProcessName;
  state: ProcessState;
  pid: number | null;
  restarts: number;
  url: string;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  nextStartAt: string | null;
}

export interface SupervisorView {
  engine: 'embedded' | 'nats';
  moderationDelayMs: number;
  processes: ProcessView[];
}

/** Everything the page shows besides the log, as of `at`. A part that could not be read is null, and `problems` says why. */
export interface FlowSnapshot {
  at: string;
  mode: FlowMode;
  engine: FlowEngine;
  /** The newest seq the client server knows of (the log's end, as far as it can tell); null when unknown. */
  lastSeq: number | null;
  services: ServiceHealth[];
  subscribers: SubscriberView[] | null;
  /**
   * With NATS, the services that read the stream through consumers of their own, which `subscribers`
   * does not list (the read models), and the types each takes in; empty on the embedded engine.
   */
  streamReaders: { service: FlowServiceName; types: string[] }[];
  deadLetters: DeadLetterView[] | null;
  /** The supervisor's processes (local mode); null in a cluster or when it did not answer. */
  supervisor: SupervisorView | null;
  /** The newest writes the page's server passed to posts and comments, oldest first: a retried write's attempts. */
  writes: WriteAttempt[];
  problems: string[];
}

/** One POST the client server passed to a service, and what it answered (or, when the service did not, what the client server did). */
export interface WriteAttempt {
  /** The request's X-Request-Id; the page sends its Idempotency-Key as that too, so a write's retries share it. */
  requestId: string | null;
  /** The Idempotency-Key sent, if any. */
  key: string | null;
  service: string;
  path: string;
  /** 0 when the caller went away before the answer. */
  status: number;
  /** The answer in words: the client server's own error when it answered for the service, else the status's name. */
  answer: string;
  at: string;
  ms: number;
}

/** A batch of new events on the stream (`event: events`). */
export interface EventsMessage {
  events: FlowEvent[];
  /** The first batch of a connection: the recent events, not new ones (the page shows them without animating them). */
  recent?: boolean;
  /** The stream fell too far behind the log and jumped ahead: these seqs were not sent. */
  skipped?: { after: number; upTo: number };
}

/** The commands that do by hand, in a cluster, what the local supervisor does from the page. */
export interface KubectlCommands {
  services: Record<FlowServiceName, { stop: string; start: string; crash: string }>;
  moderationDelay: { ms: number; command: string }[];
}

/** The answer of `/flow/api/control/...` without a local supervisor (404). */
export interface NoSupervisorAnswer {
  error: string;
  details: unknown[];
  kubectl: KubectlCommands;
}

/** The delays the page offers for moderation (the supervisor takes any 0..10000). */
export const MODERATION_DELAYS_MS = [0, 1_000, 3_000, 8_000] as const;
export const MAX_MODERATION_DELAY_MS = 10_000;
