import { assertNever, type KnownEvent } from '@blog/common';
import type { PostStore } from '../store/postStore';

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
