import { randomUUID } from 'node:crypto';
import type { EventEngine, PublishOptions, PublishReceipt } from '@blog/contracts';
import type { RepeatableWrites } from '@blog/service-kit';
import type { Post, PostStore } from '../store/postStore';

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
