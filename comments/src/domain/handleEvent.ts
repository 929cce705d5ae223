import { assertNever, derivedEventId, type EventHandlers, type FollowUp, type KnownEvent } from '@blog/contracts';
import type { CommentStore } from '../store/commentStore';

/** Applies an event to the comments' state; safe to call any number of times for the same event. */
export function applyEvent(store: CommentStore, event: KnownEvent): void {
  switch (event.type) {
    case 'PostCreated':
      store.addPost(event.data.id);
      return;
    case 'CommentCreated':
      store.addComment(event.data.postId, event.data);
      return;
    case 'CommentModerated':
      if (event.data.status !== 'pending') store.settle(event.data.id, event.data.status);
      return;
    case 'CommentUpdated':
      return;
    default:
      assertNever(event);
  }
}

/**
 * A verdict is announced as CommentUpdated. The announcement is made on every delivery, not only the
 * first: if we crashed after applying but before it was stored, the redelivery makes it again, and its
 * derived id keeps it from being stored twice.
 */
export function announceVerdict(event: KnownEvent): FollowUp[] {
  if (event.type !== 'CommentModerated' || event.data.status === 'pending') return [];
  return [{ event: { type: 'CommentUpdated', data: { ...event.data } }, id: derivedEventId('CommentUpdated', event.data.id) }];
}

/**
 * What comments does with events: keeps the posts that exist and their comments (PostCreated so it can
 * answer 404 for an unknown post; its own CommentCreated, which also repairs its state after a publish
 * whose outcome was unknown), and answers each verdict with CommentUpdated.
 */
export function commentsEventHandlers(store: CommentStore): EventHandlers {
  return {
    applies: ['PostCreated', 'CommentCreated', 'CommentModerated'],
    apply: (event) => applyEvent(store, event),
    reactsTo: ['CommentModerated'],
    react: announceVerdict,
  };
}
