/** The public HTTP API, as a user's curl session would call it. */

export interface QueryView {
  [postId: string]: { id: string; title: string; comments: { id: string; content: string; status: string }[] };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export async function getJson<T = any>(url: string): Promise<T> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

export const createPost = (postsUrl: string, title: string) => postJson(`${postsUrl}/posts`, { title });

export const createComment = (commentsUrl: string, postId: string, content: string) =>
  postJson(`${commentsUrl}/posts/${postId}/comments`, { content });

/** The first page of the view: the newest posts that fit in one answer. */
export const queryView = (queryUrl: string) => getJson<QueryView>(`${queryUrl}/posts`);

/** Every post of the view with every comment, page after page. */
export { wholeView } from '../../bench/src/wholeView';

/** Every comment in the view, by id, with how many times each id appears. */
export function commentsInView(view: QueryView) {
  const byId = new Map<string, { status: string; postId: string; content: string; count: number }>();
  for (const post of Object.values(view)) {
    for (const comment of post.comments) {
      const seen = byId.get(comment.id);
      if (seen) seen.count += 1;
      else byId.set(comment.id, { status: comment.status, postId: post.id, content: comment.content, count: 1 });
    }
  }
  return byId;
}

export { expectedStatus } from '../../bench/src/pipeline';
