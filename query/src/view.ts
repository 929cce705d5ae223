/**
 * The query service's view (every post with its comments and their status), how each event changes it,
 * and the routes that read it; the live readers are in routes/liveReaders.ts.
 */
import { type CommentStatus, EVENTS_HANDLED, assertNever, type EventHandlers, type KnownEvent, VIEW_COMMENTS_PER_POST, VIEW_MAX_BYTES, entityIdSchema } from '@blog/contracts';
import { type Logger, AppError, clientOf, commentsPage, commentsPageQuery, parseOrThrow, type Lifecycle } from '@blog/service-kit';
import { z } from 'zod';
import { Router } from 'express';
import { LiveReaders } from './routes/liveReaders';

export interface QueryComment {
  id: string;
  content: string;
  status: CommentStatus;
}

export interface QueryPost {
  id: string;
  title: string;
  comments: QueryComment[];
}

/** A post as a bounded page shows it: its newest comments, and how many earlier ones it leaves out. */
export interface PagedPost extends QueryPost {
  earlierComments?: number;
}

/** A page of the view: the posts it holds, oldest first, and how many older ones it leaves out. */
export interface ViewPage {
  posts: Record<string, PagedPost>;
  olderPosts: number;
}

/** One change to the view, as pushed to live readers (`GET /updates`). */
export type ViewChange =
  | { kind: 'post'; post: { id: string; title: string } }
  | { kind: 'comment'; postId: string; comment: QueryComment };

/** The read model: every post with its comments, and an index by comment id for O(1) updates. */
export class QueryStore {
  private readonly posts = new Map<string, QueryPost>();
  private readonly comments = new Map<string, { postId: string; comment: QueryComment }>();
  private readonly listeners = new Set<(change: ViewChange) => void>();

  /** Calls `listener` after every change; returns a function that stops it. */
  onChange(listener: (change: ViewChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: ViewChange): void {
    for (const listener of this.listeners) listener(change);
  }

  addPost(id: string, title: string): boolean {
    if (this.posts.has(id)) return false;
    this.posts.set(id, { id, title, comments: [] });
    this.emit({ kind: 'post', post: { id, title } });
    return true;
  }

  /** Adds a comment to a known post unless its id is known; answers whether it was added. */
  addComment(postId: string, comment: QueryComment): boolean {
    const post = this.posts.get(postId);
    if (!post || this.comments.has(comment.id)) return false;
    const stored = { id: comment.id, content: comment.content, status: comment.status };
    post.comments.push(stored);
    this.comments.set(stored.id, { postId, comment: stored });
    this.emit({ kind: 'comment', postId, comment: { ...stored } });
    return true;
  }

  /** Statuses only move forward (pending to a verdict), so old or repeated updates change nothing. */
  updateComment(update: QueryComment): boolean {
    const entry = this.comments.get(update.id);
    if (!entry || entry.comment.status !== 'pending' || update.status === 'pending') return false;
    entry.comment.status = update.status;
    entry.comment.content = update.content;
    this.emit({ kind: 'comment', postId: entry.postId, comment: { ...entry.comment } });
    return true;
  }

  /** A post's comments, as copies; undefined for an unknown post. */
  commentsOf(postId: string): QueryComment[] | undefined {
    return this.posts.get(postId)?.comments.map((comment) => ({ ...comment }));
  }

  toRecord(): Record<string, QueryPost> {
    return Object.fromEntries(this.posts);
  }

  /**
   * The newest posts before `before` (all posts without it) that fit in `maxBytes` (always one), each
   * with its newest `commentsPerPost` comments; in the log's order, oldest first, as the course's view.
   */
  page(maxBytes: number, commentsPerPost: number, before?: string): ViewPage {
    const all = [...this.posts.values()];
    const end = before === undefined ? all.length : Math.max(0, all.findIndex((post) => post.id === before));
    const picked: PagedPost[] = [];
    let bytes = 2;
    let index = end - 1;
    for (; index >= 0; index -= 1) {
      const post = all[index]!;
      const earlier = Math.max(0, post.comments.length - commentsPerPost);
      const paged: PagedPost = { ...post, comments: post.comments.slice(earlier), ...(earlier > 0 ? { earlierComments: earlier } : {}) };
      bytes += JSON.stringify(paged).length + post.id.length + 4;
      if (bytes > maxBytes && picked.length > 0) break;
      picked.push(paged);
    }
    return { posts: Object.fromEntries(picked.reverse().map((post) => [post.id, post])), olderPosts: index + 1 };
  }
}

/** Projects an event into the read model; applying the same event again changes nothing. */
export function applyEvent(store: QueryStore, event: KnownEvent, logger?: Logger): void {
  switch (event.type) {
    case 'PostCreated':
      store.addPost(event.data.id, event.data.title);
      return;
    case 'CommentCreated': {
      const { postId, ...comment } = event.data;
      if (!store.addComment(postId, comment)) {
        logger?.debug({ commentId: comment.id, postId }, 'comment already known or for an unknown post');
      }
      return;
    }
    case 'CommentUpdated': {
      const { postId: _postId, ...update } = event.data;
      store.updateComment(update);
      return;
    }
    case 'CommentModerated':
      return;
    default:
      assertNever(event);
  }
}

/** What query does with events: projects posts and their comments' final status into its view. */
export function queryEventHandlers(store: QueryStore, logger?: Logger): EventHandlers {
  return {
    ...EVENTS_HANDLED.query,
    apply: (event) => applyEvent(store, event, logger),
  };
}

/** Only `before` is read; anything else in the query is ignored, as the course's view ignores it. */
const viewQuery = z.object({ before: entityIdSchema.optional().catch(undefined) });

/** Keeps idle connections (and proxies in between) from timing the stream out. */
const HEARTBEAT_MS = 15_000;

/** Every reader gets the same text for one change, so it is built once, not once per reader. */
function serializer(): (change: ViewChange) => string {
  let last: ViewChange | null = null;
  let text = '';
  return (change) => {
    if (change !== last) {
      last = change;
      text = `event: ${change.kind}\ndata: ${JSON.stringify(change)}\n\n`;
    }
    return text;
  };
}

export function queryRoutes(store: QueryStore, lifecycle: Lifecycle, readers = new LiveReaders()): Router {
  const router = Router();
  const textOf = serializer();
  // The course's view, bounded: a page of the newest posts that fit; the older ones are counted in a
  // header and reached with ?before=<the oldest post shown>.
  router.get('/posts', (req, res) => {
    const { before } = parseOrThrow(viewQuery, req.query, 'query');
    const page = store.page(VIEW_MAX_BYTES, VIEW_COMMENTS_PER_POST, before);
    if (page.olderPosts > 0) res.setHeader('x-older-posts', String(page.olderPosts));
    res.json(page.posts);
  });

  // A post's comments with their statuses, or those before one (?before=<comment id>&limit=N): the
  // earlier ones a page of the view leaves out, so every comment in the view can be read from here.
  router.get('/posts/:id/comments', (req, res) => {
    const parsed = entityIdSchema.safeParse(req.params.id);
    const comments = parsed.success ? store.commentsOf(parsed.data) : undefined;
    if (!comments) throw new AppError(404, `post ${String(req.params.id).slice(0, 100)} not found`);
    res.json(commentsPage(comments, parseOrThrow(commentsPageQuery, req.query, 'query'), parsed.data!));
  });

  // Server-sent events: every change to the view as it happens, so a page (or the benchmark) sees a
  // comment's verdict the moment query applies it, without polling the whole view.
  router.get('/updates', (req, res) => {
    const client = clientOf(req.socket);
    if (!readers.admit(client)) {
      res.setHeader('retry-after', '5');
      res.status(503).json({ error: 'too many live readers; poll GET /posts instead, or try again later', details: [] });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    const stop = store.onChange((change) => readers.write(res, textOf(change)));
    const heartbeat = setInterval(() => readers.write(res, ': heartbeat\n\n'), HEARTBEAT_MS);
    const stopOnDrain = lifecycle.onDrain(() => res.end());
    res.on('close', () => {
      readers.leave(client);
      clearInterval(heartbeat);
      stop();
      stopOnDrain();
    });
  });
  return router;
}
