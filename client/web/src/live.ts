import { isComment, isPostHead, type Comment } from './api';

/** How the page is keeping up: a live stream, polling while the stream is down, or not yet connected. */
export type LiveMode = 'connecting' | 'live' | 'polling';

export interface LiveHandlers {
  onPost(post: { id: string; title: string }): void;
  onComment(postId: string, comment: Comment): void;
  /** Loads the whole view: after (re)connecting, to cover what the stream missed, and on every poll. */
  resync(): Promise<void>;
  onMode(mode: LiveMode): void;
}

/** The browser's EventSource, or a stand-in with the same surface (tests). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

export interface LiveOptions {
  /** Unset where the browser has no EventSource: the page then polls. */
  eventSource?: EventSourceFactory;
  pollMs?: number;
  /** First wait before opening a failed stream again; doubles up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
}

const CLOSED = 2;

function parse(event: MessageEvent): unknown {
  try {
    return JSON.parse(String(event.data));
  } catch {
    return null;
  }
}

/**
 * Keeps the page current: query's `/updates` stream (server-sent events) while it is up, and a poll of
 * `/posts` every `pollMs` while it is not. Returns a function that stops everything.
 */
export function startLiveUpdates(handlers: LiveHandlers, options: LiveOptions = {}): () => void {
  const pollMs = options.pollMs ?? 3_000;
  const firstReconnectMs = options.reconnectMs ?? 1_000;
  const maxReconnectMs = options.maxReconnectMs ?? 15_000;
  let stopped = false;
  let source: EventSourceLike | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectMs = firstReconnectMs;

  const resync = () => handlers.resync().catch(() => undefined);

  const poll = () => {
    if (stopped || pollTimer) return;
    pollTimer = setTimeout(async () => {
      await resync();
      pollTimer = null;
      if (!stopped && (!source || source.readyState !== 1)) poll();
    }, pollMs);
  };
  const stopPolling = () => {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  };

  const open = () => {
    if (stopped || !options.eventSource) return;
    const es = options.eventSource('/updates');
    source = es;
    es.onopen = () => {
      if (source !== es) return;
      reconnectMs = firstReconnectMs;
      stopPolling();
      handlers.onMode('live');
      void resync();
    };
    es.onerror = () => {
      if (source !== es) return;
      handlers.onMode('polling');
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
    es.addEventListener('post', (event) => {
      const data = parse(event) as { post?: unknown } | null;
      if (data && isPostHead(data.post)) handlers.onPost(data.post);
    });
    es.addEventListener('comment', (event) => {
      const data = parse(event) as { postId?: unknown; comment?: unknown } | null;
      if (data && typeof data.postId === 'string' && isComment(data.comment)) handlers.onComment(data.postId, data.comment);
    });
  };

  handlers.onMode(options.eventSource ? 'connecting' : 'polling');
  void resync();
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
