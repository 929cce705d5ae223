import { API_BODY_LIMIT_BYTES, MAX_TITLE_LENGTH, visibleTextSchema } from '@blog/contracts';
import { idempotencyKeyOf, jsonBody, parseOrThrow, requestIdOf } from '@blog/service-kit';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { createPost, type CreatePostDeps } from '../domain/createPost';

const createPostBody = z.object({
  title: visibleTextSchema('title', MAX_TITLE_LENGTH),
});

export function postsRoutes(deps: CreatePostDeps): Router {
  const router = Router();

  const handleCreate: RequestHandler = async (req, res) => {
    const { title } = parseOrThrow(createPostBody, req.body, 'post');
    const post = await createPost(title, deps, { requestId: requestIdOf(req), key: idempotencyKeyOf(req.headers) });
    res.status(201).json(post);
  };

  // `/posts/create` is the path the course's ingress routes to posts; both create a post.
  router.post(['/posts', '/posts/create'], jsonBody(API_BODY_LIMIT_BYTES), handleCreate);
  router.get('/posts', (_req, res) => {
    res.json(deps.store.toRecord());
  });
  return router;
}
