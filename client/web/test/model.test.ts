import type { Post } from '../src/api';
import { blogReducer, initialState, postsNewestFirst, type BlogAction, type BlogState } from '../src/model';

const apply = (state: BlogState, ...actions: BlogAction[]) => actions.reduce(blogReducer, state);
const post = (id: string, comments: Post['comments'] = []): Post => ({ id, title: `title ${id}`, comments });

describe('the page state', () => {
  it('when a snapshot, stream events and answers arrive in any order, then a verdict is never undone', () => {
    const pending = { id: 'c1', content: 'hi', status: 'pending' as const };
    const approved = { ...pending, status: 'approved' as const };
    const orders: BlogAction[][] = [
      [{ type: 'commentSeen', postId: 'p', comment: approved }, { type: 'viewLoaded', posts: [post('p', [pending])] }],
      [{ type: 'viewLoaded', posts: [post('p', [approved])] }, { type: 'commentSeen', postId: 'p', comment: pending }],
      [
        { type: 'commentSending', postId: 'p', draft: { tempId: 't', text: 'hi' } },
        { type: 'commentSeen', postId: 'p', comment: approved },
        { type: 'commentConfirmed', postId: 'p', tempId: 't', comment: pending },
      ],
    ];
    for (const actions of orders) {
      const state = apply(apply(initialState, { type: 'viewLoaded', posts: [post('p')] }), ...actions);
      expect(state.posts.get('p')!.comments).toEqual([approved]);
      expect(state.sendingComments.get('p') ?? []).toEqual([]);
    }
  });

  it('when a post is confirmed after the stream already showed it, then it is shown once', () => {
    const state = apply(
      initialState,
      { type: 'postSending', draft: { tempId: 't', text: 'x' } },
      { type: 'postSeen', post: { id: 'p', title: 'x' } },
      { type: 'postConfirmed', tempId: 't', post: { id: 'p', title: 'x' } },
      { type: 'viewLoaded', posts: [post('p')] },
    );
    expect(state.order).toEqual(['p']);
    expect(state.sendingPosts).toEqual([]);
  });

  it('when a snapshot lacks something already known, then nothing is removed', () => {
    const state = apply(initialState, { type: 'postSeen', post: { id: 'new', title: 'n' } }, { type: 'viewLoaded', posts: [post('old')] });
    expect(postsNewestFirst(state).map(({ id }) => id)).toEqual(['new', 'old']);
  });

  it('when a comment is confirmed, then it is remembered as written here (its author sees its text while pending)', () => {
    const state = apply(
      initialState,
      { type: 'viewLoaded', posts: [post('p')] },
      { type: 'commentConfirmed', postId: 'p', tempId: 't', comment: { id: 'c', content: 'x', status: 'pending' } },
    );
    expect([...state.mine]).toEqual(['c']);
  });

  it('when a comment names a post not seen yet, then it is left for the next snapshot', () => {
    const state = apply(initialState, { type: 'commentSeen', postId: 'ghost', comment: { id: 'c', content: 'x', status: 'approved' } });
    expect(state).toBe(initialState);
  });
});

describe('the page state with a view that comes a page at a time', () => {
  it('when older posts are loaded, then they come before the others, and a later snapshot of the newest keeps them there', () => {
    const state = apply(
      initialState,
      { type: 'viewLoaded', posts: [post('p3'), post('p4')], olderPosts: 2 },
      { type: 'olderPostsLoaded', posts: [post('p1'), post('p2')], olderPosts: 0 },
      { type: 'viewLoaded', posts: [post('p3'), post('p4'), post('p5')], olderPosts: 2 },
    );
    expect(postsNewestFirst(state).map(({ id }) => id)).toEqual(['p5', 'p4', 'p3', 'p2', 'p1']);
    expect(state.olderPosts).toBe(0);
  });

  it('when earlier comments are loaded, then they come first and the count of those left out goes down', () => {
    const page = { ...post('p'), comments: [{ id: 'c3', content: 'three', status: 'approved' as const }], earlierComments: 2 };
    const state = apply(initialState, { type: 'viewLoaded', posts: [page] }, { type: 'earlierCommentsLoaded', postId: 'p', comments: [{ id: 'c1', content: 'one', status: 'approved' }, { id: 'c2', content: 'two', status: 'rejected' }] });
    expect(state.posts.get('p')).toMatchObject({ comments: [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }], earlierComments: 0 });
  });
});
