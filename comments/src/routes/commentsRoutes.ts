import { API_BODY_LIMIT_BYTES, MAX_COMMENT_LENGTH, VIEW_COMMENTS_PER_POST, entityIdSchema, visibleTextSchema } from '@blog/contracts';
import { AppError, idempotencyKeyOf, jsonBody, parseOrThrow, requestIdOf } from '@blog/service-kit';
import { Router } from 'express';
import { z } from 'zod';
import { createComment, type CreateCommentDeps } from '../domain/createComment';

/** Only `before` and `limit` are read; anything else in the query is ignored, as the course's list ignores it. */
const commentsQuery = z.object({
  before: entityIdSchema.optional().catch(undefined),
  limit: z.coerce.number().int().min(1).max(VIEW_COMMENTS_PER_POST).optional().catch(undefined),
});

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
    // ?before=<comment id>&limit=N: the N comments before that one (the earlier ones a page leaves out).
    const { before, limit } = parseOrThrow(commentsQuery, req.query, 'query');
    if (before === undefined && limit === undefined) {
      res.json(comments);
      return;
    }
    const end = before === undefined ? comments.length : comments.findIndex((comment) => comment.id === before);
    if (end === -1) throw new AppError(404, `comment ${before} not found on post ${postId}`);
    const count = limit ?? VIEW_COMMENTS_PER_POST;
    res.json(comments.slice(Math.max(0, end - count), end));
  });
  return router;
}
