/**
 * What comments keeps (the posts that exist and their comments) and how the events it handles change it.
 */
import { type CommentStatus, type FinalCommentStatus, EVENTS_HANDLED, assertNever, derivedEventId, type EventHandlers, type FollowUp, type KnownEvent } from '@blog/contracts';

export interface Comment {
  id: string;
  content: string;
  status: CommentStatus;
}

/** The posts that exist and their comments, with an index by comment id for O(1) status updates. */
export class CommentStore {
  private readonly byPost = new Map<string, Comment[]>();
  private readonly byId = new Map<string, Comment>();
  private readonly postById = new Map<string, string>();

  addPost(postId: string): void {
    if (!this.byPost.has(postId)) this.byPost.set(postId, []);
  }

  hasPost(postId: string): boolean {
    return this.byPost.has(postId);
  }

  /** Adds the comment unless its id is known; answers whether it was new. */
  addComment(postId: string, comment: Comment): boolean {
    if (this.byId.has(comment.id)) return false;
    const stored = { id: comment.id, content: comment.content, status: comment.status };
    this.addPost(postId);
    this.byPost.get(postId)!.push(stored);
    this.byId.set(stored.id, stored);
    this.postById.set(stored.id, postId);
    return true;
  }

  /** A verdict is final: only a pending comment changes, so redelivered verdicts change nothing. */
  settle(commentId: string, status: FinalCommentStatus): boolean {
    const comment = this.byId.get(commentId);
    if (!comment || comment.status !== 'pending') return false;
    comment.status = status;
    return true;
  }

  /** One comment by id, as a copy. */
  comment(commentId: string): Comment | undefined {
    const comment = this.byId.get(commentId);
    return comment ? { ...comment } : undefined;
  }

  /** The post a comment is on. */
  postOf(commentId: string): string | undefined {
    return this.postById.get(commentId);
  }

  commentsOf(postId: string): Comment[] | undefined {
    return this.byPost.get(postId)?.map((comment) => ({ ...comment }));
  }
}

/** Applies an event to the comments' state; safe to call any number of times for the same event. */
export function applyEvent(store: CommentStore, event: KnownEvent): void {
  switch (event.type) {
    case 'PostCreated':
      store.addPost(event.data.id);
      return;
    case 'CommentCreated':
      // Only on a post that exists: a comment for any other would make its post look real here.
      if (store.hasPost(event.data.postId)) store.addComment(event.data.postId, event.data);
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
export function announceVerdict(store: CommentStore, event: KnownEvent): FollowUp[] {
  if (event.type !== 'CommentModerated' || event.data.status === 'pending') return [];
  // Only a verdict on a comment this service holds, and the one it settled on: a stray or contrary
  // CommentModerated changes nothing and announces nothing.
  const comment = store.comment(event.data.id);
  if (!comment || comment.status !== event.data.status) return [];
  return [{ event: { type: 'CommentUpdated', data: { ...event.data, content: comment.content } }, id: derivedEventId('CommentUpdated', event.data.id) }];
}

/**
 * What comments does with events: keeps the posts that exist and their comments (PostCreated so it can
 * answer 404 for an unknown post; its own CommentCreated, which also repairs its state after a publish
 * whose outcome was unknown), and answers each verdict with CommentUpdated.
 */
export function commentsEventHandlers(store: CommentStore): EventHandlers {
  return {
    ...EVENTS_HANDLED.comments,
    apply: (event) => applyEvent(store, event),
    react: (event) => announceVerdict(store, event),
  };
}
