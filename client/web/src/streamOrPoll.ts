/** How the page is keeping up: a live stream, polling while the stream is down, or not yet connected. */
export type LiveMode = 'connecting' | 'live' | 'polling';

/** The browser's EventSource, or a stand-in with the same surface (tests). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

export interface StreamOrPollOptions {
  /** Unset where the browser has no EventSource: the page then polls. */
  eventSource?: EventSourceFactory;
  pollMs: number;
  /** First wait before opening a failed stream again; doubles up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
}

export interface StreamOrPoll {
  url: string;
  /** Each named server-sent event, with its data parsed as JSON (null when it is not JSON). */
  listeners: Record<string, (data: unknown) => void>;
  /** Reads what the stream would have sent: on every poll, and (`pollOnOpen`) when the stream opens. */
  poll(): Promise<void>;
  onMode(mode: LiveMode): void;
  /** Also poll once when the stream (re)opens, to cover what it missed while down; and once at the start. */
  pollOnOpen: boolean;
}

const OPEN = 1;
const CLOSED = 2;

function parsed(event: MessageEvent): unknown {
  try {
    return JSON.parse(String(event.data));
  } catch {
    return null;
  }
}

/**
 * A server-sent event stream while it is up, and a poll every `pollMs` while it is not, opening a closed
 * stream again with a doubling wait. The blog page and the flow page keep current this way. Returns a
 * function that stops everything.
 */
export function streamOrPoll(stream: StreamOrPoll, options: StreamOrPollOptions): () => void {
  const firstReconnectMs = options.reconnectMs ?? 1_000;
  const maxReconnectMs = options.maxReconnectMs ?? 15_000;
  let stopped = false;
  let source: EventSourceLike | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectMs = firstReconnectMs;

  const pollNow = () => stream.poll().catch(() => undefined);
  const poll = () => {
    if (stopped || pollTimer) return;
    pollTimer = setTimeout(async () => {
      await pollNow();
      pollTimer = null;
      if (!stopped && (!source || source.readyState !== OPEN)) poll();
    }, options.pollMs);
  };
  const stopPolling = () => {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  };

  const open = () => {
    if (stopped || !options.eventSource) return;
    const es = options.eventSource(stream.url);
    source = es;
    es.onopen = () => {
      if (source !== es) return;
      reconnectMs = firstReconnectMs;
      stopPolling();
      stream.onMode('live');
      if (stream.pollOnOpen) void pollNow();
    };
    es.onerror = () => {
      if (source !== es) return;
      stream.onMode('polling');
      poll();
      // The browser retries a stream that broke by itself; one refused outright (a 503) is closed for good,
      // so it is opened again here, waiting longer each time.
      if (es.readyState === CLOSED) {
        es.close();
        source = null;
        reconnectTimer = setTimeout(open, reconnectMs);
        reconnectMs = Math.min(reconnectMs * 2, maxReconnectMs);
      }
    };
    for (const [name, listener] of Object.entries(stream.listeners)) es.addEventListener(name, (event) => listener(parsed(event)));
  };

  stream.onMode(options.eventSource ? 'connecting' : 'polling');
  if (stream.pollOnOpen || !options.eventSource) void pollNow();
  if (options.eventSource) open();
  else poll();

  return () => {
    stopped = true;
    stopPolling();
    if (reconnectTimer) clearTimeout(reconnectTimer);
    source?.close();
    source = null;
  };
}
