import type { CommentStatus } from '@blog/common';

export interface QueryComment {
  id: string;
  content: string;
  status: CommentStatus;
}

export interface QueryPost {
  id: string;
  title: string;
  comments: QueryComment[];
}

/** The read model: every post with its comments, and an index by comment id for O(1) updates. */
export class QueryStore {
  private readonly posts = new Map<string, QueryPost>();
  private readonly comments = new Map<string, QueryComment>();

  addPost(id: string, title: string): boolean {
    if (this.posts.has(id)) return false;
    this.posts.set(id, { id, title, comments: [] });
    return true;
  }

  /** Adds a comment to a known post unless its id is known; answers whether it was added. */
  addComment(postId: string, comment: QueryComment): boolean {
    const post = this.posts.get(postId);
    if (!post || this.comments.has(comment.id)) return false;
    const stored = { id: comment.id, content: comment.content, status: comment.status };
    post.comments.push(stored);
    this.comments.set(stored.id, stored);
    return true;
  }

  /** Statuses only move forward (pending to a verdict), so old or repeated updates change nothing. */
  updateComment(update: QueryComment): boolean {
    const comment = this.comments.get(update.id);
    if (!comment || comment.status !== 'pending' || update.status === 'pending') return false;
    comment.status = update.status;
    comment.content = update.content;
    return true;
  }

  toRecord(): Record<string, QueryPost> {
    return Object.fromEntries(this.posts);
  }
}
