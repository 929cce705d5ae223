import type { EventsMessage, FlowSnapshot } from '../../../src/flow/wire';
import type { EventSourceFactory, EventSourceLike, LiveMode } from '../live';

export interface FlowStreamHandlers {
  onEvents(message: EventsMessage): void;
  onSnapshot(snapshot: FlowSnapshot): void;
  onMode(mode: LiveMode): void;
  /** While the stream is down: reads what it would have sent (the snapshot, the events since the last seen). */
  poll(): Promise<void>;
}

export interface FlowStreamOptions {
  eventSource?: EventSourceFactory;
  pollMs?: number;
  reconnectMs?: number;
  maxReconnectMs?: number;
}

const CLOSED = 2;

function parsed(event: MessageEvent): unknown {
  try {
    return JSON.parse(String(event.data));
  } catch {
    return null;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Keeps the flow page current: the client server's `/flow/api/stream` while it is up, and a poll of the
 * snapshot and the log every `pollMs` while it is not. Returns a function that stops everything.
 */
export function startFlowStream(handlers: FlowStreamHandlers, options: FlowStreamOptions = {}): () => void {
  const pollMs = options.pollMs ?? 2_000;
  const firstReconnectMs = options.reconnectMs ?? 1_000;
  const maxReconnectMs = options.maxReconnectMs ?? 15_000;
  let stopped = false;
  let source: EventSourceLike | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectMs = firstReconnectMs;

  const poll = () => {
    if (stopped || pollTimer) return;
    pollTimer = setTimeout(async () => {
      await handlers.poll().catch(() => undefined);
      pollTimer = null;
      if (!stopped && (!source || source.readyState !== 1)) poll();
    }, pollMs);
  };

  const open = () => {
    if (stopped || !options.eventSource) return;
    const es = options.eventSource('/flow/api/stream');
    source = es;
    es.onopen = () => {
      if (source !== es) return;
      reconnectMs = firstReconnectMs;
      if (pollTimer) clearTimeout(pollTimer);
      pollTimer = null;
      handlers.onMode('live');
    };
    es.onerror = () => {
      if (source !== es) return;
      handlers.onMode('polling');
      poll();
      if (es.readyState === CLOSED) {
        es.close();
        source = null;
        reconnectTimer = setTimeout(open, reconnectMs);
        reconnectMs = Math.min(reconnectMs * 2, maxReconnectMs);
      }
    };
    es.addEventListener('events', (event) => {
      const data = parsed(event);
      if (isRecord(data) && Array.isArray(data.events)) handlers.onEvents(data as unknown as EventsMessage);
    });
    es.addEventListener('snapshot', (event) => {
      const data = parsed(event);
      if (isRecord(data) && Array.isArray(data.services)) handlers.onSnapshot(data as unknown as FlowSnapshot);
    });
  };

  handlers.onMode(options.eventSource ? 'connecting' : 'polling');
  if (options.eventSource) open();
  else {
    void handlers.poll().catch(() => undefined);
    poll();
  }

  return () => {
    stopped = true;
    if (pollTimer) clearTimeout(pollTimer);
    if (reconnectTimer) clearTimeout(reconnectTimer);
    source?.close();
    source = null;
  };
}
