import { API_BODY_LIMIT_BYTES, MAX_COMMENT_LENGTH, entityIdSchema, visibleTextSchema } from '@blog/contracts';
import { AppError, commentsPage, commentsPageQuery, idempotencyKeyOf, jsonBody, parseOrThrow, requestIdOf } from '@blog/service-kit';
import { Router } from 'express';
import { z } from 'zod';
import { createComment, type CreateCommentDeps } from '../domain/createComment';

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
