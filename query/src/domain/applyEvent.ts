import { assertNever, type EventType, type KnownEvent, type Logger } from '@blog/common';
import type { QueryStore } from '../store/queryStore';

/** The events query acts on; the rest are ignored below. */
export const HANDLED_TYPES: readonly EventType[] = ['PostCreated', 'CommentCreated', 'CommentUpdated'];

/** Projects an event into the read model; applying the same event again changes nothing. */
export function applyEvent(store: QueryStore, event: KnownEvent, logger?: Logger): void {
  switch (event.type) {
    case 'PostCreated':
      store.addPost(event.data.id, event.data.title);
      return;
    case 'CommentCreated': {
      const { postId, ...comment } = event.data;
      if (!store.addComment(postId, comment)) {
        logger?.debug({ commentId: comment.id, postId }, 'comment already known or for an unknown post');
      }
      return;
    }
    case 'CommentUpdated': {
      const { postId: _postId, ...update } = event.data;
      store.updateComment(update);
      return;
    }
    case 'CommentModerated':
      return;
    default:
      assertNever(event);
  }
}
