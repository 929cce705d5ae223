import type { Comment, CommentStatus, Post } from './api';

/** A post or comment shown at once, before the service has confirmed it. */
export interface Draft {
  tempId: string;
  text: string;
  /** Why it is not saved yet while the page keeps trying (a service restarting), in words. */
  waiting?: string;
}

export interface BlogState {
  /** Whether the view has been loaded once (until then the page shows a placeholder, not "no posts"). */
  loaded: boolean;
  /** Maps, not plain objects: an id such as `constructor` must never find something the page did not put there. */
  posts: ReadonlyMap<string, Post>;
  /** Post ids in the order they were first seen: the log's order, so oldest first. */
  order: string[];
  sendingPosts: Draft[];
  sendingComments: ReadonlyMap<string, Draft[]>;
  /** Comments written in this tab: their author sees the text while it awaits moderation. */
  mine: ReadonlySet<string>;
  /** Posts older than the oldest shown, which the view's page left out. */
  olderPosts: number;
}

export type BlogAction =
  | { type: 'viewLoaded'; posts: Post[]; olderPosts?: number }
  | { type: 'olderPostsLoaded'; posts: Post[]; olderPosts: number }
  | { type: 'earlierCommentsLoaded'; postId: string; comments: Comment[] }
  | { type: 'postSeen'; post: { id: string; title: string } }
  | { type: 'commentSeen'; postId: string; comment: Comment }
  | { type: 'postSending'; draft: Draft }
  | { type: 'postConfirmed'; tempId: string; post: { id: string; title: string } }
  | { type: 'postFailed'; tempId: string }
  | { type: 'commentSending'; postId: string; draft: Draft }
  | { type: 'commentConfirmed'; postId: string; tempId: string; comment: Comment }
  | { type: 'commentFailed'; postId: string; tempId: string }
  /** A post's draft (no postId) or a comment's is still being saved, and why. */
  | { type: 'draftWaiting'; postId?: string; tempId: string; waiting: string };

export const initialState: BlogState = { loaded: false, posts: new Map(), order: [], sendingPosts: [], sendingComments: new Map(), mine: new Set(), olderPosts: 0 };

/** A copy of `map` with `key` set: the state is never changed in place. */
function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V): ReadonlyMap<string, V> {
  return new Map(map).set(key, value);
}

const rank = (status: CommentStatus): number => (status === 'pending' ? 0 : 1);

/**
 * A comment's status only moves forward (pending, then a verdict), whatever order the answers, the live
 * stream and the polls arrive in: an older view never undoes a newer one.
 */
function mergeComment(comments: Comment[], incoming: Comment): Comment[] {
  const index = comments.findIndex((comment) => comment.id === incoming.id);
  if (index === -1) return [...comments, incoming];
  const current = comments[index]!;
  if (rank(incoming.status) <= rank(current.status)) return comments;
  const next = comments.slice();
  next[index] = incoming;
  return next;
}

function withPost(state: BlogState, post: { id: string; title: string; earlierComments?: number }): BlogState {
  const known = state.posts.get(post.id);
  if (known) return known.earlierComments === post.earlierComments || post.earlierComments === undefined ? state : { ...state, posts: withEntry(state.posts, post.id, { ...known, earlierComments: post.earlierComments }) };
  const added: Post = { id: post.id, title: post.title, comments: [], ...(post.earlierComments ? { earlierComments: post.earlierComments } : {}) };
  return { ...state, posts: withEntry(state.posts, post.id, added), order: [...state.order, post.id] };
}

function withComment(state: BlogState, postId: string, comment: Comment): BlogState {
  const post = state.posts.get(postId);
  if (!post) return state;
  const comments = mergeComment(post.comments, comment);
  if (comments === post.comments) return state;
  return { ...state, posts: withEntry(state.posts, postId, { ...post, comments }) };
}

function withWaiting(drafts: Draft[] | undefined, tempId: string, waiting: string): Draft[] {
  return (drafts ?? []).map((draft) => (draft.tempId === tempId ? { ...draft, waiting } : draft));
}

function withoutDraft(drafts: Draft[] | undefined, tempId: string): Draft[] {
  return (drafts ?? []).filter((draft) => draft.tempId !== tempId);
}

export function blogReducer(state: BlogState, action: BlogAction): BlogState {
  switch (action.type) {
    case 'viewLoaded': {
      // Nothing is ever deleted, so a snapshot adds to what is known and never removes.
      let next: BlogState = state.loaded ? state : { ...state, loaded: true };
      for (const post of action.posts) {
        next = withPost(next, post);
        for (const comment of post.comments) next = withComment(next, post.id, comment);
      }
      // The snapshot is a page of the newest posts, in the log's order. Posts known from before its first
      // (older pages loaded) stay before it; the others it does not have yet are newer, so they come after.
      const inSnapshot = new Set(action.posts.map((post) => post.id));
      const first = state.order.findIndex((id) => inSnapshot.has(id));
      const before = first === -1 ? [] : state.order.slice(0, first).filter((id) => !inSnapshot.has(id));
      const keptBefore = new Set(before);
      const order = [...before, ...action.posts.map((post) => post.id), ...next.order.filter((id) => !inSnapshot.has(id) && !keptBefore.has(id))];
      const moved = order.some((id, index) => next.order[index] !== id);
      const withOrder = moved ? { ...next, order } : next;
      // Older posts counted only until some are loaded: the first page's count stands.
      return action.olderPosts !== undefined && before.length === 0 ? { ...withOrder, olderPosts: action.olderPosts } : withOrder;
    }
    case 'olderPostsLoaded': {
      let next: BlogState = state;
      for (const post of action.posts) {
        next = withPost(next, post);
        for (const comment of post.comments) next = withComment(next, post.id, comment);
      }
      const older = action.posts.map((post) => post.id);
      const fresh = new Set(older);
      return { ...next, order: [...older, ...next.order.filter((id) => !fresh.has(id))], olderPosts: action.olderPosts };
    }
    case 'earlierCommentsLoaded': {
      const post = state.posts.get(action.postId);
      if (!post) return state;
      const known = new Set(post.comments.map((comment) => comment.id));
      const earlier = action.comments.filter((comment) => !known.has(comment.id));
      const left = Math.max(0, (post.earlierComments ?? 0) - earlier.length);
      return { ...state, posts: withEntry(state.posts, action.postId, { ...post, comments: [...earlier, ...post.comments], earlierComments: left }) };
    }
    case 'postSeen':
      return withPost(state, action.post);
    case 'commentSeen':
      return withComment(state, action.postId, action.comment);
    case 'postSending':
      return { ...state, sendingPosts: [...state.sendingPosts, action.draft] };
    case 'postConfirmed':
      return withPost({ ...state, sendingPosts: withoutDraft(state.sendingPosts, action.tempId) }, action.post);
    case 'postFailed':
      return { ...state, sendingPosts: withoutDraft(state.sendingPosts, action.tempId) };
    case 'commentSending':
      return {
        ...state,
        sendingComments: withEntry(state.sendingComments, action.postId, [...(state.sendingComments.get(action.postId) ?? []), action.draft]),
      };
    case 'commentConfirmed': {
      const next: BlogState = {
        ...state,
        sendingComments: withEntry(state.sendingComments, action.postId, withoutDraft(state.sendingComments.get(action.postId), action.tempId)),
        mine: new Set(state.mine).add(action.comment.id),
      };
      return withComment(next, action.postId, action.comment);
    }
    case 'commentFailed':
      return {
        ...state,
        sendingComments: withEntry(state.sendingComments, action.postId, withoutDraft(state.sendingComments.get(action.postId), action.tempId)),
      };
    case 'draftWaiting':
      if (action.postId === undefined) return { ...state, sendingPosts: withWaiting(state.sendingPosts, action.tempId, action.waiting) };
      return { ...state, sendingComments: withEntry(state.sendingComments, action.postId, withWaiting(state.sendingComments.get(action.postId), action.tempId, action.waiting)) };
    default: {
      const unknown: never = action;
      return unknown;
    }
  }
}

/** Newest post first. */
export function postsNewestFirst(state: BlogState): Post[] {
  return state.order.map((id) => state.posts.get(id)!).reverse();
}
