import type { Comment } from '../api';

export type CommentView = { kind: 'sending'; text: string; waiting?: string } | { kind: 'stored'; comment: Comment; mine: boolean };

/** One comment, its status in words: sending, awaiting moderation, the approved text, or rejected. */
export function CommentItem({ view }: { view: CommentView }) {
  if (view.kind === 'sending') {
    return (
      <li className="comment is-sending" data-status="sending">
        <span className="comment-text">{view.text}</span>
        <span className="badge badge-sending">Sending…</span>
        {view.waiting ? (
          <span className="draft-waiting" role="status" data-testid="draft-waiting">
            {view.waiting}
          </span>
        ) : null}
      </li>
    );
  }
  const { comment, mine } = view;
  switch (comment.status) {
    case 'approved':
      return (
        <li className="comment is-approved" data-status="approved" data-comment-id={comment.id}>
          <span className="comment-text">{comment.content}</span>
        </li>
      );
    case 'pending':
      return (
        <li className="comment is-pending" data-status="pending" data-comment-id={comment.id}>
          {/* Only its author sees the text before moderation has passed it. */}
          {mine ? <span className="comment-text">{comment.content}</span> : null}
          <span className="badge badge-pending">Awaiting moderation</span>
        </li>
      );
    case 'rejected':
      return (
        <li className="comment is-rejected" data-status="rejected" data-comment-id={comment.id}>
          <span className="badge badge-rejected">Rejected by moderation</span>
        </li>
      );
    default: {
      const unknown: never = comment.status;
      return unknown;
    }
  }
}
