/**
 * What posts keeps (the posts) and how the events it handles change it.
 */
import { EVENTS_HANDLED, assertNever, type EventHandlers, type KnownEvent } from '@blog/contracts';

export interface Post {
  id: string;
  title: string;
}

/** Posts by id, in creation order. */
export class PostStore {
  private readonly posts = new Map<string, Post>();

  /** Adds the post unless its id is known; answers whether it was new. */
  add(post: Post): boolean {
    if (this.posts.has(post.id)) return false;
    this.posts.set(post.id, { id: post.id, title: post.title });
    return true;
  }

  /** One post by id, as a copy. */
  get(id: string): Post | undefined {
    const post = this.posts.get(id);
    return post && { ...post };
  }

  get size(): number {
    return this.posts.size;
  }

  /** The course's shape: an object keyed by post id. */
  toRecord(): Record<string, Post> {
    return Object.fromEntries(this.posts);
  }
}

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
