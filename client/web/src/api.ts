/** What the page knows of the API (shared/ARCHITECTURE.md), and how each failure is told apart. */
import type { CommentStatus } from '@blog/contracts';

// A type-only import: the statuses come from the event contracts, and nothing of zod reaches the bundle.
export type { CommentStatus };

export interface Comment {
  id: string;
  content: string;
  status: CommentStatus;
}

export interface Post {
  id: string;
  title: string;
  comments: Comment[];
  /** Earlier comments a page of the view left out (it holds each post's newest). */
  earlierComments?: number;
}

/** A page of the view: the newest posts that fit (before a given one), and how many older it leaves out. */
export interface ViewPage {
  posts: Post[];
  olderPosts: number;
}

export interface FieldError {
  /** The body field it is about (`title`, `content`), or `(body)`. */
  path: string;
  message: string;
}

/**
 * - validation: the request was wrong (400, 413); `details` name the fields.
 * - unavailable: the service is down or unreachable (502, 503, no answer at all); nothing was saved unless
 *   the message says otherwise, and trying again is the way forward.
 * - unknown-outcome: the service took too long (504); the change may still appear.
 * - in-flight: the same write (its Idempotency-Key) is still being handled (409); asking again soon is right.
 * - not-found: an unknown post (404).
 */
export type ApiErrorKind = 'validation' | 'unavailable' | 'unknown-outcome' | 'in-flight' | 'not-found' | 'other';

/** A service the client server could not get an answer from, and its state as the client server knows it. */
export interface ServiceState {
  name: string;
  state: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number | null,
    message: string,
    readonly details: FieldError[] = [],
    readonly service: ServiceState | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What makes a write safe to send again: one key per text a person sends, the same on every retry. */
export interface WriteOptions {
  key?: string;
}

/** A fresh Idempotency-Key: 128 random bits (getRandomValues works on plain http too, where randomUUID does not). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export interface BlogApi {
  listPosts(): Promise<Post[]>;
  /** The view a page at a time: the newest posts, or those before `before`, with how many are older still. */
  viewPage?(before?: string): Promise<ViewPage>;
  /** The comments of a post before one of them: what a page left out. */
  earlierComments?(postId: string, before: string): Promise<Comment[]>;
  createPost(title: string, options?: WriteOptions): Promise<{ id: string; title: string }>;
  createComment(postId: string, content: string, options?: WriteOptions): Promise<Comment>;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Longer than the client server's own wait for a service (15 s), so its answer arrives first. */
const REQUEST_TIMEOUT_MS = 20_000;

const STATUSES: readonly string[] = ['pending', 'approved', 'rejected'] satisfies readonly CommentStatus[];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export function isComment(value: unknown): value is Comment {
  return isRecord(value) && typeof value.id === 'string' && typeof value.content === 'string' && STATUSES.includes(value.status as string);
}

export function isPostHead(value: unknown): value is { id: string; title: string } {
  return isRecord(value) && typeof value.id === 'string' && typeof value.title === 'string';
}

function kindOf(status: number): ApiErrorKind {
  if (status === 400 || status === 413 || status === 415) return 'validation';
  if (status === 404) return 'not-found';
  if (status === 409) return 'in-flight';
  if (status === 502 || status === 503) return 'unavailable';
  if (status === 504) return 'unknown-outcome';
  return 'other';
}

function serviceOf(body: unknown): ServiceState | null {
  if (!isRecord(body) || !isRecord(body.service) || typeof body.service.name !== 'string') return null;
  return { name: body.service.name, state: typeof body.service.state === 'string' ? body.service.state : null };
}

function detailsOf(body: unknown): FieldError[] {
  if (!isRecord(body) || !Array.isArray(body.details)) return [];
  return body.details
    .filter((detail): detail is { path?: unknown; message: string } => isRecord(detail) && typeof detail.message === 'string')
    .map((detail) => ({ path: typeof detail.path === 'string' ? detail.path : '(body)', message: detail.message }));
}

async function call(fetchImpl: FetchLike, path: string, init: RequestInit = {}): Promise<unknown> {
  return (await answerOf(fetchImpl, path, init)).body;
}

/** The JSON body of a successful answer, with its headers; an ApiError otherwise. */
async function answerOf(fetchImpl: FetchLike, path: string, init: RequestInit = {}): Promise<{ body: unknown; headers: Headers }> {
  let response: Response;
  const timeout = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
  try {
    response = await fetchImpl(path, { ...init, signal: timeout, headers: { accept: 'application/json', ...init.headers } });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new ApiError('unknown-outcome', null, 'the server did not answer in time');
    }
    throw new ApiError('unavailable', null, 'cannot reach the server: check your connection');
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return { body, headers: response.headers };
  const message = isRecord(body) && typeof body.error === 'string' ? body.error : `the server answered ${response.status}`;
  throw new ApiError(kindOf(response.status), response.status, message, detailsOf(body), serviceOf(body));
}

const unexpected = (what: string) => new ApiError('other', null, `the server sent an unexpected ${what}`);

/** A keyed write sends its key as its request id too, so every attempt shares one trace on the flow page. */
function postJson(fetchImpl: FetchLike, path: string, body: unknown, { key }: WriteOptions = {}): Promise<unknown> {
  const keyed: Record<string, string> = key === undefined ? {} : { 'idempotency-key': key, 'x-request-id': key };
  return call(fetchImpl, path, { method: 'POST', headers: { 'content-type': 'application/json', ...keyed }, body: JSON.stringify(body) });
}

/** The API over HTTP, on the page's own origin (the client server routes each path to its service). */
export function httpApi(fetchImpl: FetchLike = (input, init) => fetch(input, init)): BlogApi {
  const viewPage = async (before?: string): Promise<ViewPage> => {
    const { body, headers } = await answerOf(fetchImpl, before === undefined ? '/posts' : `/posts?before=${encodeURIComponent(before)}`);
    if (!isRecord(body)) throw unexpected('list of posts');
    const posts = Object.values(body)
      .filter(isPostHead)
      .map((post) => {
        const { comments, earlierComments } = post as { comments?: unknown; earlierComments?: unknown };
        return {
          id: post.id,
          title: post.title,
          comments: Array.isArray(comments) ? comments.filter(isComment) : [],
          ...(typeof earlierComments === 'number' && earlierComments > 0 ? { earlierComments } : {}),
        };
      });
    return { posts, olderPosts: Number(headers.get('x-older-posts') ?? 0) || 0 };
  };
  return {
    listPosts: async () => (await viewPage()).posts,
    viewPage,
    async earlierComments(postId, before) {
      const body = await call(fetchImpl, `/posts/${encodeURIComponent(postId)}/comments?before=${encodeURIComponent(before)}`);
      if (!Array.isArray(body)) throw unexpected('list of comments');
      return body.filter(isComment);
    },
    async createPost(title, options) {
      const body = await postJson(fetchImpl, '/posts', { title }, options);
      if (!isPostHead(body)) throw unexpected('answer');
      return { id: body.id, title: body.title };
    },
    async createComment(postId, content, options) {
      const body = await postJson(fetchImpl, `/posts/${encodeURIComponent(postId)}/comments`, { content }, options);
      if (!isComment(body)) throw unexpected('answer');
      return body;
    },
  };
}
