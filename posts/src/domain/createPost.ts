import { randomUUID } from 'node:crypto';
import type { EventEngine } from '@blog/contracts';
import type { Post, PostStore } from '../store/postStore';

export interface CreatePostDeps {
  engine: EventEngine;
  store: PostStore;
  newId?: () => string;
}

/** The post exists only once its event is stored: if publishing fails, nothing is kept. */
export async function createPost(
  title: string,
  { engine, store, newId = randomUUID }: CreatePostDeps,
  requestId?: string,
): Promise<Post> {
  const post: Post = { id: newId(), title };
  await engine.publish({ type: 'PostCreated', data: post }, { requestId });
  store.add(post);
  return post;
}
