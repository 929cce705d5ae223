import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { ApiError, type BlogApi, type FieldError } from './api';
import { startLiveUpdates, type EventSourceFactory, type LiveMode } from './live';
import { blogReducer, initialState, type BlogState } from './model';
import { sendUntilAnswered, type RetryPolicy } from './retryingWrite';

/** A problem worth a banner: a service is down, with what was being done and a way to try again. */
export interface Problem {
  /** `load`: the view could not be read; `write`: a post or comment was not saved. */
  kind: 'load' | 'write';
  message: string;
  retry: () => void;
}

/** What a form learns from sending: success, or what to show next to which field. */
export type SendResult = { ok: true } | { ok: false; fieldErrors: Record<string, string>; formError?: string };

export interface BlogDeps {
  api: BlogApi;
  eventSource?: EventSourceFactory;
  pollMs?: number;
  /** How long a comment on a post the comments service has not heard of yet is retried (it soon will have). */
  unknownPostRetryMs?: number;
  /** How a write waits out a service that is down or restarting (retryingWrite's WRITE_RETRY). */
  writeRetry?: RetryPolicy;
}

function fieldErrorsOf(details: FieldError[], field: string): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const detail of details) {
    const key = detail.path === field ? field : '(form)';
    errors[key] = errors[key] ? `${errors[key]}; ${detail.message}` : detail.message;
  }
  return errors;
}

function failure(error: unknown, field: string): SendResult {
  if (error instanceof ApiError && error.kind === 'validation') {
    const errors = fieldErrorsOf(error.details, field);
    if (Object.keys(errors).length === 0) errors[field] = error.message;
    const { '(form)': formError, ...fieldErrors } = errors;
    return { ok: false, fieldErrors, formError };
  }
  const message = error instanceof Error ? error.message : 'something went wrong';
  return { ok: false, fieldErrors: {}, formError: message };
}

const isOutage = (error: unknown) => error instanceof ApiError && (error.kind === 'unavailable' || error.kind === 'unknown-outcome' || error.kind === 'in-flight');

function outageMessage(error: ApiError, what: string): string {
  if (error.kind === 'unknown-outcome') return `Your ${what} may not have been saved: ${error.message}. Trying again will not save it twice.`;
  return `Your ${what} was not saved: ${error.message}. It is still in the form.`;
}

let nextTempId = 1;
const tempId = () => `sending-${nextTempId++}`;

export interface Blog {
  state: BlogState;
  live: LiveMode;
  problem: Problem | null;
  dismissProblem(): void;
  /** `key`: the Idempotency-Key of this text, the same each time the form sends it until it is saved. */
  createPost(title: string, retry: () => void, key: string): Promise<SendResult>;
  createComment(postId: string, content: string, retry: () => void, key: string): Promise<SendResult>;
  showOlderPosts(): Promise<void>;
  showEarlierComments(postId: string): Promise<void>;
}

export function useBlog({ api, eventSource, pollMs, unknownPostRetryMs = 5_000, writeRetry }: BlogDeps): Blog {
  const [state, dispatch] = useReducer(blogReducer, initialState);
  const [live, setLive] = useState<LiveMode>('connecting');
  const [problem, setProblem] = useState<Problem | null>(null);
  const knownPosts = useRef(state.posts);
  knownPosts.current = state.posts;

  const load = useCallback(async () => {
    try {
      const page = api.viewPage ? await api.viewPage() : { posts: await api.listPosts(), olderPosts: 0 };
      dispatch({ type: 'viewLoaded', posts: page.posts, olderPosts: page.olderPosts });
      setProblem((current) => (current?.kind === 'load' ? null : current));
    } catch (error) {
      const message = error instanceof Error ? error.message : 'something went wrong';
      setProblem((current) =>
        current?.kind === 'write'
          ? current
          : { kind: 'load', message: `Cannot load the posts: ${message}. Retrying by itself.`, retry: () => void load() },
      );
      throw error;
    }
  }, [api]);

  useEffect(
    () =>
      startLiveUpdates(
        {
          onPost: (post) => dispatch({ type: 'postSeen', post }),
          onComment: (postId, comment) => {
            // A comment on a post not seen yet means the stream missed something: read the whole view.
            if (!knownPosts.current.has(postId)) void load().catch(() => undefined);
            dispatch({ type: 'commentSeen', postId, comment });
          },
          resync: load,
          onMode: setLive,
        },
        { eventSource, pollMs },
      ),
    [load, eventSource, pollMs],
  );

  const createPost = useCallback(
    async (title: string, retry: () => void, key: string): Promise<SendResult> => {
      const draft = { tempId: tempId(), text: title.trim() };
      dispatch({ type: 'postSending', draft });
      try {
        const post = await sendUntilAnswered(() => api.createPost(title, { key }), {
          policy: writeRetry,
          onWaiting: (waiting) => dispatch({ type: 'draftWaiting', tempId: draft.tempId, waiting }),
        });
        dispatch({ type: 'postConfirmed', tempId: draft.tempId, post });
        setProblem(null);
        return { ok: true };
      } catch (error) {
        dispatch({ type: 'postFailed', tempId: draft.tempId });
        if (isOutage(error)) {
          setProblem({ kind: 'write', message: outageMessage(error as ApiError, 'post'), retry });
          return { ok: false, fieldErrors: {} };
        }
        return failure(error, 'title');
      }
    },
    [api, writeRetry],
  );

  const createComment = useCallback(
    async (postId: string, content: string, retry: () => void, key: string): Promise<SendResult> => {
      const draft = { tempId: tempId(), text: content.trim() };
      dispatch({ type: 'commentSending', postId, draft });
      try {
        const comment = await sendUntilAnswered(() => api.createComment(postId, content, { key }), {
          policy: writeRetry,
          onWaiting: (waiting) => dispatch({ type: 'draftWaiting', postId, tempId: draft.tempId, waiting }),
          // A post this page has seen exists: the comments service learns of it from the bus moments later.
          alsoRetry: (error, elapsedMs) => error instanceof ApiError && error.kind === 'not-found' && elapsedMs < unknownPostRetryMs,
        });
        dispatch({ type: 'commentConfirmed', postId, tempId: draft.tempId, comment });
        setProblem(null);
        return { ok: true };
      } catch (error) {
        dispatch({ type: 'commentFailed', postId, tempId: draft.tempId });
        if (isOutage(error)) {
          setProblem({ kind: 'write', message: outageMessage(error as ApiError, 'comment'), retry });
          return { ok: false, fieldErrors: {} };
        }
        return failure(error, 'content');
      }
    },
    [api, unknownPostRetryMs, writeRetry],
  );

  const dismissProblem = useCallback(() => setProblem(null), []);

  /** The posts before the oldest shown, a page of them. */
  const showOlderPosts = useCallback(async () => {
    const oldest = state.order[0];
    if (!api.viewPage || oldest === undefined) return;
    const page = await api.viewPage(oldest);
    dispatch({ type: 'olderPostsLoaded', posts: page.posts, olderPosts: page.olderPosts });
  }, [api, state.order]);

  /** The comments of a post before the earliest shown. */
  const showEarlierComments = useCallback(
    async (postId: string) => {
      const earliest = state.posts.get(postId)?.comments[0];
      if (!api.earlierComments || !earliest) return;
      dispatch({ type: 'earlierCommentsLoaded', postId, comments: await api.earlierComments(postId, earliest.id) });
    },
    [api, state.posts],
  );

  return useMemo(
    () => ({ state, live, problem, dismissProblem, createPost, createComment, showOlderPosts, showEarlierComments }),
    [state, live, problem, dismissProblem, createPost, createComment, showOlderPosts, showEarlierComments],
  );
}
