import { assertNever, derivedEventId, type BusClient, type EventContext, type EventType, type KnownEvent } from '@blog/common';
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
 * delivery, not only the first: if we crashed after applying but before publishing, the redelivery
 * publishes it, and its derived id keeps the bus from storing it twice.
 */
export async function handleEvent(
  deps: { store: CommentStore; bus: BusClient },
  event: KnownEvent,
  context: EventContext,
): Promise<void> {
  applyEvent(deps.store, event);
  if (context.live && event.type === 'CommentModerated' && event.data.status !== 'pending') {
    await deps.bus.publish(
      { type: 'CommentUpdated', data: { ...event.data } },
      derivedEventId('CommentUpdated', event.data.id),
      context.requestId,
    );
  }
}
