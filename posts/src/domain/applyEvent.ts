import { assertNever, type EventType, type KnownEvent } from '@blog/common';
import type { PostStore } from '../store/postStore';

/** The events posts acts on; the rest are ignored below. */
export const HANDLED_TYPES: readonly EventType[] = ['PostCreated'];

/** posts keeps its own list; replaying its PostCreated events rebuilds it. */
export function applyEvent(store: PostStore, event: KnownEvent): void {
  switch (event.type) {
    case 'PostCreated':
      store.add(event.data);
      return;
    case 'CommentCreated':
    case 'CommentModerated':
    case 'CommentUpdated':
      return;
    default:
      assertNever(event);
  }
}
