import { ComposeForm } from './components/ComposeForm';
import { LiveBadge } from './components/LiveBadge';
import { PostCard, SendingPostCard } from './components/PostCard';
import { ProblemBanner } from './components/ProblemBanner';
import { postsNewestFirst } from './model';
import { useBlog, type BlogDeps } from './useBlog';

export function App({ deps }: { deps: BlogDeps }) {
  const blog = useBlog(deps);
  const { state } = blog;
  const posts = postsNewestFirst(state);
  const nothingYet = posts.length === 0 && state.sendingPosts.length === 0;
  return (
    <div className="page">
      <header className="masthead">
        <div>
          <h1 className="masthead-title">Blog</h1>
          <p className="masthead-tagline">
            Posts and comments, moderated as they arrive. <a href="/flow">Watch the events flow →</a>
          </p>
        </div>
        <LiveBadge mode={blog.live} />
      </header>
      <main>
        <section className="card new-post" aria-label="Write a post">
          <ComposeForm
            label="New post"
            placeholder="A title for your post"
            field="title"
            buttonLabel="Publish"
            sendingLabel="Publishing…"
            onSend={blog.createPost}
          />
        </section>
        <section className="posts" aria-label="Posts">
          {[...state.sendingPosts].reverse().map((draft) => (
            <SendingPostCard key={draft.tempId} draft={draft} />
          ))}
          {posts.map((post) => (
            <PostCard
              key={post.id}
              post={post}
              sendingComments={state.sendingComments.get(post.id) ?? []}
              mine={state.mine}
              onComment={blog.createComment}
              onEarlierComments={blog.showEarlierComments}
            />
          ))}
          {state.olderPosts > 0 ? (
            <button type="button" className="button-link older-posts" onClick={() => void blog.showOlderPosts().catch(() => undefined)}>
              Show {state.olderPosts === 1 ? '1 older post' : `${state.olderPosts} older posts`}
            </button>
          ) : null}
          {nothingYet ? (
            <p className="empty" aria-busy={!state.loaded}>
              {state.loaded ? 'No posts yet. Write the first one above.' : 'Loading posts…'}
            </p>
          ) : null}
        </section>
      </main>
      <ProblemBanner problem={blog.problem} onDismiss={blog.dismissProblem} />
    </div>
  );
}
