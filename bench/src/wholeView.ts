/** A post in query's view (`GET /posts`), as the checks read it. */
export interface ViewPost {
  id: string;
  title: string;
  comments: { id: string; content: string; status: string }[];
  /** Comments the page left out (query's page holds each post's newest 100). */
  earlierComments?: number;
}

async function answerOf(url: string): Promise<Response> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return response;
}

/**
 * Every post in query's view with every comment: the pages of `GET /posts` (each of at most 1 MiB, the
 * next one `?before=` the oldest post of the last), and for a post with earlier comments than a page
 * holds, the rest from query's `GET /posts/:id/comments?before=`. In the log's order, oldest first.
 */
export async function wholeView(queryUrl: string): Promise<Record<string, ViewPost>> {
  const pages: Record<string, ViewPost>[] = [];
  let before: string | undefined;
  for (;;) {
    const response = await answerOf(`${queryUrl}/posts${before === undefined ? '' : `?before=${encodeURIComponent(before)}`}`);
    const page = (await response.json()) as Record<string, ViewPost>;
    pages.unshift(page);
    before = Object.keys(page)[0];
    if (before === undefined || Number(response.headers.get('x-older-posts') ?? 0) === 0) break;
  }
  const view: Record<string, ViewPost> = {};
  for (const page of pages) {
    for (const post of Object.values(page)) {
      let comments = post.comments;
      while ((post.earlierComments ?? 0) > 0 && comments.length < post.comments.length + post.earlierComments!) {
        const earlier = (await (await answerOf(`${queryUrl}/posts/${encodeURIComponent(post.id)}/comments?before=${encodeURIComponent(comments[0]!.id)}`)).json()) as ViewPost['comments'];
        if (earlier.length === 0) break;
        comments = [...earlier, ...comments];
      }
      view[post.id] = { id: post.id, title: post.title, comments };
    }
  }
  return view;
}
