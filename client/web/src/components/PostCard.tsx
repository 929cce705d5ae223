// The limit itself, from the contracts' limits file (plain constants): the package's index would bring zod into the page.
import { MAX_COMMENT_LENGTH } from '../../../../contracts/src/limits';
import type { Post } from '../api';
import type { Draft } from '../model';
import type { SendResult } from '../useBlog';
import { CommentItem } from './CommentItem';
import { ComposeForm } from './ComposeForm';

export interface PostCardProps {
  post: Post;
  sendingComments: Draft[];
  mine: ReadonlySet<string>;
  onComment(postId: string, content: string, retry: () => void, key: string): Promise<SendResult>;
  /** Loads the comments the view's page left out; absent where there is nothing to load. */
  onEarlierComments?(postId: string): Promise<void>;
}

const commentCount = (count: number) => (count === 1 ? '1 comment' : `${count} comments`);

export function PostCard({ post, sendingComments, mine, onComment, onEarlierComments }: PostCardProps) {
  const headingId = `post-${post.id}`;
  const earlier = post.earlierComments ?? 0;
  const total = post.comments.length + sendingComments.length + earlier;
  return (
    <article className="card post" aria-labelledby={headingId} data-post-id={post.id}>
      <header className="post-header">
        <h2 id={headingId} className="post-title">
          {post.title}
        </h2>
        <span className="post-meta">{commentCount(total)}</span>
      </header>
      {earlier > 0 && onEarlierComments ? (
        <button type="button" className="button-link earlier-comments" onClick={() => void onEarlierComments(post.id).catch(() => undefined)}>
          Show {earlier === 1 ? '1 earlier comment' : `${earlier} earlier comments`}
        </button>
      ) : null}
      {total === 0 ? (
        <p className="comments-empty">No comments yet. Be the first.</p>
      ) : (
        <ul className="comments" aria-label={`Comments on ${post.title}`}>
          {post.comments.map((comment) => (
            <CommentItem key={comment.id} view={{ kind: 'stored', comment, mine: mine.has(comment.id) }} />
          ))}
          {sendingComments.map((draft) => (
            <CommentItem key={draft.tempId} view={{ kind: 'sending', text: draft.text, waiting: draft.waiting }} />
          ))}
        </ul>
      )}
      <ComposeForm
        className="compose-comment"
        label="Add a comment"
        labelContext={`to “${post.title}”`}
        placeholder="Say something kind"
        field="content"
        buttonLabel="Comment"
        sendingLabel="Sending…"
        maxLength={MAX_COMMENT_LENGTH}
        onSend={(content, retry, key) => onComment(post.id, content, retry, key)}
      />
    </article>
  );
}

/** A post shown at once while the posts service stores it, laid out as it will be once saved. */
export function SendingPostCard({ draft }: { draft: Draft }) {
  return (
    <article className="card post is-sending" aria-busy="true">
      <header className="post-header">
        <h2 className="post-title">{draft.text}</h2>
        <span className="badge badge-sending">Publishing…</span>
      </header>
      {draft.waiting ? (
        <p className="draft-waiting" role="status" data-testid="draft-waiting">
          {draft.waiting}
        </p>
      ) : null}
      <p className="comments-empty">No comments yet. Be the first.</p>
      <ComposeForm
        className="compose-comment"
        label="Add a comment"
        placeholder="Comments open once the post is saved"
        field="content"
        buttonLabel="Comment"
        sendingLabel="Sending…"
        maxLength={MAX_COMMENT_LENGTH}
        disabled
        onSend={async () => ({ ok: false, fieldErrors: {} })}
      />
    </article>
  );
}
