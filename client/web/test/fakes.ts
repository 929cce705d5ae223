import { ApiError, type BlogApi, type Comment, type Post, type WriteOptions } from '../src/api';
import type { EventSourceLike } from '../src/live';

type Method = 'listPosts' | 'createPost' | 'createComment';

/** A failure to come: thrown before the call does anything, or (`stored`) after it stored the write, as a lost answer is. */
interface Failure {
  error: ApiError;
  stored: boolean;
}

/**
 * An in-memory API with the real one's shape. A test can make the next calls of a method fail, or hold
 * them until it lets them go (to look at the page while a request is in flight). Writes keep their
 * Idempotency-Key as the services do: a repeated key answers what the first made.
 */
export class FakeApi implements BlogApi {
  posts: Post[];
  calls: Record<Method, number> = { listPosts: 0, createPost: 0, createComment: 0 };
  /** The Idempotency-Key of each write call, in order. */
  keys: (string | undefined)[] = [];
  private failures: Record<Method, Failure[]> = { listPosts: [], createPost: [], createComment: [] };
  private readonly madeByKey = new Map<string, { id: string; title: string } | Comment>();
  private held: Record<Method, (() => void)[] | null> = { listPosts: null, createPost: null, createComment: null };
  private nextId = 1;

  constructor(posts: Post[] = []) {
    this.posts = posts.map((post) => ({ ...post, comments: [...post.comments] }));
  }

  /** The next `times` calls of `method` reject with `error`; with `stored`, after storing what they were sent. */
  failNext(method: Method, error: ApiError, times = 1, { stored = false } = {}): void {
    for (let i = 0; i < times; i += 1) this.failures[method].push({ error, stored });
  }

  /** The failures still to come are dropped: the service is back. */
  recover(method: Method): void {
    this.failures[method] = [];
  }

  /** Calls of `method` wait from now on; the returned function lets them (and later ones) through. */
  hold(method: Method): () => void {
    this.held[method] = [];
    return () => {
      const waiting = this.held[method] ?? [];
      this.held[method] = null;
      for (const release of waiting) release();
    };
  }

  private async gate(method: Method): Promise<void> {
    this.calls[method] += 1;
    const waiting = this.held[method];
    if (waiting) await new Promise<void>((resolve) => waiting.push(resolve));
    const failure = this.failures[method][0];
    if (failure && !failure.stored) throw this.failures[method].shift()!.error;
  }

  /** After a write was stored: the answer that was lost, if one is due. */
  private answerOrLose(method: Method): void {
    const failure = this.failures[method][0];
    if (failure?.stored) throw this.failures[method].shift()!.error;
  }

  private byKey<T extends { id: string; title: string } | Comment>(key: string | undefined, make: () => T): T {
    this.keys.push(key);
    if (key === undefined) return make();
    const made = this.madeByKey.get(key) ?? make();
    this.madeByKey.set(key, made);
    return made as T;
  }

  async listPosts(): Promise<Post[]> {
    await this.gate('listPosts');
    return this.posts.map((post) => ({ ...post, comments: post.comments.map((comment) => ({ ...comment })) }));
  }

  async createPost(title: string, { key }: WriteOptions = {}): Promise<{ id: string; title: string }> {
    await this.gate('createPost');
    const made = this.byKey(key, () => {
      const post = { id: `post-${this.nextId++}`, title: title.trim(), comments: [] };
      this.posts.push(post);
      return { id: post.id, title: post.title };
    });
    this.answerOrLose('createPost');
    return { ...made };
  }

  async createComment(postId: string, content: string, { key }: WriteOptions = {}): Promise<Comment> {
    await this.gate('createComment');
    const post = this.posts.find((candidate) => candidate.id === postId);
    if (!post) throw new ApiError('not-found', 404, `no post ${postId}`);
    const made = this.byKey(key, () => {
      const comment: Comment = { id: `comment-${this.nextId++}`, content: content.trim(), status: 'pending' };
      post.comments.push(comment);
      return { ...comment };
    });
    this.answerOrLose('createComment');
    return { ...made };
  }

  /** What moderation does: sets a stored comment's verdict. */
  moderate(commentId: string, status: Comment['status']): Comment {
    for (const post of this.posts) {
      const comment = post.comments.find((candidate) => candidate.id === commentId);
      if (comment) {
        comment.status = status;
        return { ...comment };
      }
    }
    throw new Error(`no comment ${commentId}`);
  }
}

/** A stand-in for the browser's EventSource that a test opens, feeds and breaks by hand. */
export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  static latest(): FakeEventSource {
    const source = FakeEventSource.instances.at(-1);
    if (!source) throw new Error('no EventSource was opened');
    return source;
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  emit(type: string, data: unknown): void {
    const event = new MessageEvent(type, { data: JSON.stringify(data) });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** The stream broke: `closed` as after a refused (503) reconnect, otherwise the browser would retry. */
  fail({ closed }: { closed: boolean }): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.(new Event('error'));
  }
}

export const factory = {
  post: (overrides: Partial<Post> = {}): Post => ({ id: `p-${Math.random().toString(36).slice(2)}`, title: 'A post', comments: [], ...overrides }),
  comment: (overrides: Partial<Comment> = {}): Comment => ({
    id: `c-${Math.random().toString(36).slice(2)}`,
    content: 'A comment',
    status: 'approved',
    ...overrides,
  }),
};
