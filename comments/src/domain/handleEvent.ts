import { assertNever, derivedEventId, type EventContext, type EventType, type FollowUp, type KnownEvent } from '@blog/common';
import type { CommentStore } from '../store/commentStore';

/** The events comments acts on; the rest are ignored below. */
export const HANDLED_TYPES: readonly EventType[] = ['PostCreated', 'CommentCreated', 'CommentModerated'];

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
 * A delivered verdict is applied and announced as CommentUpdated. The announcement is made on every
 * delivery, not only the first: if we crashed after applying but before it was stored, the redelivery
 * makes it again, and its derived id keeps the bus from storing it twice.
 */
export function handleEvent(store: CommentStore, event: KnownEvent, context: EventContext): FollowUp[] {
  applyEvent(store, event);
  if (context.live && event.type === 'CommentModerated' && event.data.status !== 'pending') {
    return [{ event: { type: 'CommentUpdated', data: { ...event.data } }, id: derivedEventId('CommentUpdated', event.data.id) }];
  }
  return [];
}
