import { EVENTS_HANDLED, assertNever, type EventHandlers, type KnownEvent } from '@blog/contracts';
import { type Logger } from '@blog/service-kit';
import type { QueryStore } from '../store/queryStore';

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

/** What query does with events: projects posts and their comments' final status into its view. */
export function queryEventHandlers(store: QueryStore, logger?: Logger): EventHandlers {
  return {
    ...EVENTS_HANDLED.query,
    apply: (event) => applyEvent(store, event, logger),
  };
}
