import { randomUUID } from 'node:crypto';
import { type EventEngine } from '@blog/contracts';
import { AppError } from '@blog/service-kit';
import type { Comment, CommentStore } from '../store/commentStore';

export interface CreateCommentDeps {
  engine: EventEngine;
  store: CommentStore;
  /** Reads the log up to now: a post created a moment ago may not have been delivered here yet. */
  catchUp: () => Promise<void>;
  newId?: () => string;
}

async function ensurePostExists(postId: string, { store, catchUp }: CreateCommentDeps): Promise<void> {
  if (store.hasPost(postId)) return;
  await catchUp();
  if (!store.hasPost(postId)) throw new AppError(404, `post ${postId} not found`);
}

/** The comment exists only once its event is stored: if publishing fails, nothing is kept. */
export async function createComment(
  postId: string,
  content: string,
  deps: CreateCommentDeps,
  requestId?: string,
): Promise<Comment> {
  await ensurePostExists(postId, deps);
  const comment: Comment = { id: (deps.newId ?? randomUUID)(), content, status: 'pending' };
  await deps.engine.publish({ type: 'CommentCreated', data: { ...comment, postId, status: 'pending' } }, { requestId });
  deps.store.addComment(postId, comment);
  return comment;
}
