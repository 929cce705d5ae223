/**
 * Comments' HTTP API: creating a comment, kept only once the log has stored its event, and listing a
 * post's comments.
 */
import { randomUUID } from 'node:crypto';
import { type EventEngine, type PublishOptions, type PublishReceipt, API_BODY_LIMIT_BYTES, MAX_COMMENT_LENGTH, entityIdSchema, visibleTextSchema } from '@blog/contracts';
import { AppError, type RepeatableWrites, commentsPage, commentsPageQuery, idempotencyKeyOf, jsonBody, parseOrThrow, requestIdOf } from '@blog/service-kit';
import type { Comment, CommentStore } from '../store/commentStore';
import { Router } from 'express';
import { z } from 'zod';

export interface CreateCommentDeps {
  engine: EventEngine;
  store: CommentStore;
  /** Reads the log up to now: a post created a moment ago may not have been delivered here yet. */
  catchUp: () => Promise<void>;
  /** Where a write sent with an Idempotency-Key goes. */
  writes: RepeatableWrites;
  newId?: () => string;
}

async function ensurePostExists(postId: string, { store, catchUp }: CreateCommentDeps): Promise<void> {
  if (store.hasPost(postId)) return;
  await catchUp();
  if (!store.hasPost(postId)) throw new AppError(404, `post ${postId} not found`);
}

/**
 * The comment exists only once its event is stored: if publishing fails, nothing is kept. When the log
 * held the id already, what it holds is kept when it is delivered, not this request's copy of it.
 */
async function publishComment(postId: string, comment: Comment, { engine, store }: CreateCommentDeps, options: PublishOptions): Promise<PublishReceipt> {
  const receipt = await engine.publish({ type: 'CommentCreated', data: { ...comment, postId, status: 'pending' } }, options);
  if (!receipt.duplicate) store.addComment(postId, comment);
  return receipt;
}

/**
 * Creates a pending comment on a post that exists; with an Idempotency-Key, a repeat of the request
 * answers the comment it made, as it was made (pending), and the same key on another post or with
 * other text answers 422 (RepeatableWrites).
 */
export async function createComment(
  postId: string,
  content: string,
  deps: CreateCommentDeps,
  { requestId, key }: { requestId?: string; key?: string } = {},
): Promise<Comment> {
  await ensurePostExists(postId, deps);
  if (key === undefined) {
    const comment: Comment = { id: (deps.newId ?? randomUUID)(), content, status: 'pending' };
    await publishComment(postId, comment, deps, { requestId });
    return comment;
  }
  return deps.writes.write({
    type: 'CommentCreated',
    key,
    make: (id): Comment => ({ id, content, status: 'pending' }),
    find: (id) => {
      const held = deps.store.comment(id);
      if (!held) return undefined;
      return { resource: { id, content: held.content, status: 'pending' }, same: held.content === content && deps.store.postOf(id) === postId };
    },
    store: (comment, eventId) => publishComment(postId, comment, deps, { id: eventId, requestId }),
  });
}

const createCommentBody = z.object({
  content: visibleTextSchema('content', MAX_COMMENT_LENGTH),
});

function postIdOf(raw: unknown): string {
  const parsed = entityIdSchema.safeParse(raw);
  if (!parsed.success) throw new AppError(404, 'post not found');
  return parsed.data;
}

export function commentsRoutes(deps: CreateCommentDeps): Router {
  const router = Router();

  router.post('/posts/:id/comments', jsonBody(API_BODY_LIMIT_BYTES), async (req, res) => {
    const postId = postIdOf(req.params.id);
    const { content } = parseOrThrow(createCommentBody, req.body, 'comment');
    const comment = await createComment(postId, content, deps, { requestId: requestIdOf(req), key: idempotencyKeyOf(req.headers) });
    res.status(201).json(comment);
  });

  router.get('/posts/:id/comments', async (req, res) => {
    const postId = postIdOf(req.params.id);
    let comments = deps.store.commentsOf(postId);
    if (!comments) {
      await deps.catchUp();
      comments = deps.store.commentsOf(postId);
    }
    if (!comments) throw new AppError(404, `post ${postId} not found`);
    res.json(commentsPage(comments, parseOrThrow(commentsPageQuery, req.query, 'query'), postId));
  });
  return router;
}
