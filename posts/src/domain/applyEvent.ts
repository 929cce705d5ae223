import { EVENTS_HANDLED, assertNever, type EventHandlers, type KnownEvent } from '@blog/contracts';
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

/** What posts does with events: keeps its list of posts, reacts to nothing. */
export function postsEventHandlers(store: PostStore): EventHandlers {
  return { ...EVENTS_HANDLED.posts, apply: (event) => applyEvent(store, event) };
}
