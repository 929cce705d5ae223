import { randomUUID } from 'node:crypto';
import type { BusClient } from '@blog/common';
import type { Post, PostStore } from '../store/postStore';

export interface CreatePostDeps {
  bus: BusClient;
  store: PostStore;
  newId?: () => string;
}

/** The post exists only once its event is stored: if publishing fails, nothing is kept. */
export async function createPost(
  title: string,
  { bus, store, newId = randomUUID }: CreatePostDeps,
  requestId?: string,
): Promise<Post> {
  const post: Post = { id: newId(), title };
  await bus.publish({ type: 'PostCreated', data: post }, undefined, requestId);
  store.add(post);
  return post;
}
