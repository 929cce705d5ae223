import { VIEW_COMMENTS_PER_POST, VIEW_MAX_BYTES, entityIdSchema } from '@blog/contracts';
import { AppError, clientOf, commentsPage, commentsPageQuery, parseOrThrow, type Lifecycle } from '@blog/service-kit';
import { z } from 'zod';
import { Router } from 'express';
import type { QueryStore, ViewChange } from '../store/queryStore';
import { LiveReaders } from './liveReaders';

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
