/** The flow page's pure rules: the log it holds, where each event goes, traces, and how things read. */
import {
  FLOW_SERVICES,
  type FlowEvent,
  type FlowServiceName,
  type FlowSnapshot,
  type ProcessView,
  type ServiceHealth,
  type SubscriberView,
  type WriteAttempt,
} from '../../../src/flow/wire';

export { FLOW_SERVICES };
export type { FlowEvent, FlowServiceName, FlowSnapshot, ProcessView, ServiceHealth, SubscriberView, WriteAttempt };

/** Events the page keeps (for the table, filters and traces); older ones drop off the front. */
export const MAX_HELD_EVENTS = 1_000;

/** The log as the page holds it: in seq order, each seq once, at most MAX_HELD_EVENTS. */
export function mergeEvents(held: readonly FlowEvent[], incoming: readonly FlowEvent[], max = MAX_HELD_EVENTS): FlowEvent[] {
  if (incoming.length === 0) return held as FlowEvent[];
  const last = held.length > 0 ? held[held.length - 1]!.seq : 0;
  // The usual case: everything new is after what is held.
  if (incoming.every((event, index) => event.seq > last && (index === 0 || event.seq > incoming[index - 1]!.seq))) {
    const merged = [...held, ...incoming];
    return merged.length > max ? merged.slice(merged.length - max) : merged;
  }
  const bySeq = new Map<number, FlowEvent>();
  for (const event of held) bySeq.set(event.seq, event);
  for (const event of incoming) bySeq.set(event.seq, event);
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return merged.length > max ? merged.slice(merged.length - max) : merged;
}

/** `/comments` → comments; a source that is not one of the services (a course-style publisher) → null. */
export function publisherOf(event: Pick<FlowEvent, 'source'>): FlowServiceName | null {
  const name = event.source.replace(/^\//, '');
  return (FLOW_SERVICES as readonly string[]).includes(name) && name !== 'event-bus' ? (name as FlowServiceName) : null;
}

/** One place an event goes after the bus: a service, and the subscriber whose position says when it got there. */
export interface Route {
  service: FlowServiceName;
  /** Null when the bus keeps no position for it (a NATS read model): it is shown as received at once. */
  subscriber: SubscriberView | null;
}

export const receives = (subscriber: Pick<SubscriberView, 'types'>, type: string) => subscriber.types === null || subscriber.types.length === 0 || subscriber.types.includes(type);

/** The services an event of `type` is delivered to, per the bus's subscribers and, with NATS, the stream's own readers. */
export function routesOf(type: string, snapshot: FlowSnapshot | null): Route[] {
  if (!snapshot?.subscribers) return [];
  const routes: Route[] = [];
  const seen = new Set<FlowServiceName>();
  for (const subscriber of snapshot.subscribers) {
    if (!subscriber.service || seen.has(subscriber.service) || !receives(subscriber, type)) continue;
    seen.add(subscriber.service);
    routes.push({ service: subscriber.service, subscriber });
  }
  // With NATS, the read models take their types through consumers the gateway does not list.
  for (const { service, types } of snapshot.streamReaders) {
    if (!seen.has(service) && types.includes(type)) routes.push({ service, subscriber: null });
  }
  return routes;
}

/** Whether the subscriber has handled the event at `seq` (its position is at or past it). */
export const hasReached = (subscriber: Pick<SubscriberView, 'position' | 'lag'> | null, seq: number) =>
  subscriber === null || subscriber.position >= seq;

/** The subscribers that belong to a service. */
export function subscribersOf(service: FlowServiceName, snapshot: FlowSnapshot | null): SubscriberView[] {
  return snapshot?.subscribers?.filter((subscriber) => subscriber.service === service) ?? [];
}

export const lagOf = (service: FlowServiceName, snapshot: FlowSnapshot | null): number | null => {
  const subscribers = subscribersOf(service, snapshot);
  return subscribers.length === 0 ? null : subscribers.reduce((sum, subscriber) => sum + subscriber.lag, 0);
};

/** How a service is, in words, from its /readyz and (locally) the supervisor's view of its process. */
export interface NodeStatus {
  /** For styling and tests: the first that applies of the process state and the readiness. */
  state: 'ready' | 'not-ready' | 'down' | 'stopped' | 'starting' | 'stopping' | 'crashed' | 'backing-off' | 'unknown';
  /** A word or two, always shown (never colour alone). */
  label: string;
  /** More, for a tooltip and the screen reader. */
  detail: string | null;
}

const secondsUntil = (iso: string | null, now: number) => (iso ? Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000)) : null);

export function statusOf(health: ServiceHealth | undefined, process: ProcessView | undefined, now = Date.now()): NodeStatus {
  switch (process?.state) {
    case 'stopped':
      return { state: 'stopped', label: 'stopped', detail: 'stopped from this page or the supervisor; Start brings it back' };
    case 'stopping':
      return { state: 'stopping', label: 'stopping…', detail: null };
    case 'crashed':
      return { state: 'crashed', label: 'crashed', detail: process.lastExit ? `exited ${process.lastExit.signal ?? `with code ${process.lastExit.code}`}` : null };
    case 'backing-off': {
      const seconds = secondsUntil(process.nextStartAt, now);
      return { state: 'backing-off', label: seconds === null ? 'crashed, restarting' : `crashed, restart in ${seconds} s`, detail: `restarted ${process.restarts} times` };
    }
    case 'starting':
      return { state: 'starting', label: 'starting…', detail: health?.reason ?? null };
    default:
      break;
  }
  // The supervisor saw it ready and nothing else is known (the client server, NATS).
  if (!health) return process?.state === 'ready' ? { state: 'ready', label: 'ready', detail: null } : { state: 'unknown', label: 'unknown', detail: null };
  switch (health.state) {
    case 'ready':
      return { state: 'ready', label: 'ready', detail: null };
    case 'not-ready':
      return { state: 'not-ready', label: 'not ready', detail: health.reason };
    case 'down':
      return { state: 'down', label: 'down', detail: health.reason };
    default: {
      const unknown: never = health.state;
      return unknown;
    }
  }
}

/** The chain of events one request caused, or one comment went through, in log order. */
export interface TraceStep {
  event: FlowEvent;
  /** Since the previous step (by the events' `time`); null for the first. */
  sincePreviousMs: number | null;
}

export interface Trace {
  query: string;
  /** The writes sent with that request id or Idempotency-Key, each attempt with its answer (a retried write has several). */
  attempts: WriteAttempt[];
  steps: TraceStep[];
  /** From the first step to the last. */
  totalMs: number | null;
}

const COMMENT_EVENTS = new Set(['CommentCreated', 'CommentModerated', 'CommentUpdated']);

const dataIdOf = (event: FlowEvent): string | undefined => {
  const data = event.data as { id?: unknown } | null | undefined;
  return typeof data?.id === 'string' ? data.id : undefined;
};

/** The comment id an event is about, if it is a comment event. */
export const commentIdOf = (event: FlowEvent): string | undefined => (COMMENT_EVENTS.has(event.type) ? dataIdOf(event) : undefined);

/**
 * Every held event with `query` as its request id, or (for a comment id) the comment events whose
 * `data.id` it is, in seq order, with the time between steps; and the write attempts with that request
 * id or key that the client server passed on.
 */
export function traceOf(query: string, events: readonly FlowEvent[], writes: readonly WriteAttempt[] = []): Trace {
  const wanted = query.trim();
  const attempts = wanted === '' ? [] : writes.filter((attempt) => attempt.requestId === wanted || attempt.key === wanted);
  const matched = wanted === '' ? [] : events.filter((event) => event.requestid === wanted || commentIdOf(event) === wanted);
  const steps = matched.map((event, index) => {
    const previous = index > 0 ? matched[index - 1]! : null;
    return { event, sincePreviousMs: previous ? Date.parse(event.time) - Date.parse(previous.time) : null };
  });
  const totalMs = steps.length > 1 ? Date.parse(steps[steps.length - 1]!.event.time) - Date.parse(steps[0]!.event.time) : null;
  return { query: wanted, attempts, steps, totalMs: Number.isNaN(totalMs) ? null : totalMs };
}

/** 850 ms, 1.2 s, 2 min 5 s. */
export function formatDuration(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return '—';
  if (ms < 0) return `${formatDuration(-ms)} earlier`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

/** 12:00:03.123 in the viewer's time zone; the ISO text when it is not a time. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** The types seen in the held events, for the filter. */
export function typesIn(events: readonly FlowEvent[]): string[] {
  return [...new Set(events.map((event) => event.type))].sort();
}

export const serviceLabel = (service: FlowServiceName | 'nats'): string => (service === 'event-bus' ? 'event bus' : service === 'nats' ? 'NATS' : service);
