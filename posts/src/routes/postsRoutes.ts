/**
 * Posts' HTTP API: creating a post, kept only once the log has stored its event, and listing the posts.
 */
import { randomUUID } from 'node:crypto';
import { type EventEngine, type PublishOptions, type PublishReceipt, API_BODY_LIMIT_BYTES, MAX_TITLE_LENGTH, visibleTextSchema } from '@blog/contracts';
import { type RepeatableWrites, idempotencyKeyOf, jsonBody, parseOrThrow, requestIdOf } from '@blog/service-kit';
import type { Post, PostStore } from '../store/postStore';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';

export interface CreatePostDeps {
  engine: EventEngine;
  store: PostStore;
  /** Where a write sent with an Idempotency-Key goes. */
  writes: RepeatableWrites;
  newId?: () => string;
}

/**
 * The post exists only once its event is stored: if publishing fails, nothing is kept. When the log held
 * the id already, what it holds is kept when it is delivered, not this request's copy of it.
 */
async function publishPost(post: Post, { engine, store }: CreatePostDeps, options: PublishOptions): Promise<PublishReceipt> {
  const receipt = await engine.publish({ type: 'PostCreated', data: post }, options);
  if (!receipt.duplicate) store.add(post);
  return receipt;
}

/** Creates a post; with an Idempotency-Key, a repeat of the request answers the post it made (RepeatableWrites). */
export async function createPost(title: string, deps: CreatePostDeps, { requestId, key }: { requestId?: string; key?: string } = {}): Promise<Post> {
  if (key === undefined) {
    const post: Post = { id: (deps.newId ?? randomUUID)(), title };
    await publishPost(post, deps, { requestId });
    return post;
  }
  return deps.writes.write({
    type: 'PostCreated',
    key,
    make: (id) => ({ id, title }),
    find: (id) => {
      const held = deps.store.get(id);
      return held && { resource: held, same: held.title === title };
    },
    store: (post, eventId) => publishPost(post, deps, { id: eventId, requestId }),
  });
}

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
