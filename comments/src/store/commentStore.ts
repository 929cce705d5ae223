import type { CommentStatus, FinalCommentStatus } from '@blog/contracts';

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
