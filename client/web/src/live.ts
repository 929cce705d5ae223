import { isComment, isPostHead, type Comment } from './api';
import { streamOrPoll, type EventSourceFactory, type LiveMode } from './streamOrPoll';

export type { EventSourceFactory, EventSourceLike, LiveMode } from './streamOrPoll';

export interface LiveHandlers {
  onPost(post: { id: string; title: string }): void;
  onComment(postId: string, comment: Comment): void;
  /** Loads the whole view: after (re)connecting, to cover what the stream missed, and on every poll. */
  resync(): Promise<void>;
  onMode(mode: LiveMode): void;
}

export interface LiveOptions {
  /** Unset where the browser has no EventSource: the page then polls. */
  eventSource?: EventSourceFactory;
  pollMs?: number;
  /** First wait before opening a failed stream again; doubles up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
}

/**
 * Keeps the page current: query's `/updates` stream (server-sent events) while it is up, and a poll of
 * `/posts` every `pollMs` while it is not. Returns a function that stops everything.
 */
export function startLiveUpdates(handlers: LiveHandlers, options: LiveOptions = {}): () => void {
  return streamOrPoll(
    {
      url: '/updates',
      pollOnOpen: true,
      poll: () => handlers.resync(),
      onMode: (mode) => handlers.onMode(mode),
      listeners: {
        post: (data) => {
          const post = (data as { post?: unknown } | null)?.post;
          if (isPostHead(post)) handlers.onPost(post);
        },
        comment: (data) => {
          const message = data as { postId?: unknown; comment?: unknown } | null;
          if (message && typeof message.postId === 'string' && isComment(message.comment)) handlers.onComment(message.postId, message.comment);
        },
      },
    },
    { ...options, pollMs: options.pollMs ?? 3_000 },
  );
}
