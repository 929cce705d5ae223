import { wholeView } from './support/blogApi';
import http from 'node:http';
import net from 'node:net';
import { VIEW_COMMENTS_PER_POST, VIEW_MAX_BYTES } from '@blog/contracts';
import { useLocalSystem } from './support/localSystem';
import { createComment, createPost } from './support/blogApi';
import { waitFor } from './support/waitFor';

/**
 * What one client can hold, and what one page load weighs: a page of the view stays under
 * VIEW_MAX_BYTES however many comments there are, with what it leaves out one request away; a client
 * holding every live stream it may, or a thousand idle sockets, leaves room for the next client (another
 * address: 127.0.0.2 is this machine too).
 */
jest.setTimeout(180_000);

const running = useLocalSystem();

/** A GET from a given local address; answers its status, and the request to end it (streams stay open). */
function getFrom(url: string, localAddress: string): Promise<{ status: number; end: () => void }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { localAddress, agent: false }, (response) => {
      response.on('data', () => undefined);
      resolve({ status: response.statusCode ?? 0, end: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

describe('a page of the view', () => {
  const POSTS = 6;
  const COMMENTS = VIEW_COMMENTS_PER_POST + 10;
  const posts: string[] = [];

  beforeAll(async () => {
    for (let index = 0; index < POSTS; index += 1) {
      const post = await createPost(running().url('posts'), `post ${index}`);
      posts.push(post.body.id as string);
      for (let from = 0; from < COMMENTS; from += 20) {
        await Promise.all(Array.from({ length: Math.min(20, COMMENTS - from) }, (_, n) => createComment(running().url('comments'), post.body.id, `${from + n} ${'x'.repeat(1990)}`)));
      }
    }
    await waitFor('every comment in query', async () => {
      const view = (await (await fetch(`${running().url('query')}/posts`)).json()) as Record<string, { earlierComments?: number }>;
      return Object.keys(view).length > 0 && Object.values(view).every((post) => post.earlierComments === COMMENTS - VIEW_COMMENTS_PER_POST);
    }, { timeoutMs: 60_000, intervalMs: 500 });
  });

  it('when there are more comments than a page holds, then it stays under its size, keeps each post\'s newest, and counts the rest', async () => {
    const answer = await fetch(`${running().url('query')}/posts`);
    const text = await answer.text();
    expect(text.length).toBeLessThanOrEqual(VIEW_MAX_BYTES);
    const view = JSON.parse(text) as Record<string, { comments: { content: string }[]; earlierComments?: number }>;
    const shown = Object.keys(view);
    expect(shown).toEqual(posts.slice(POSTS - shown.length));
    expect(Number(answer.headers.get('x-older-posts'))).toBe(POSTS - shown.length);
    for (const post of Object.values(view)) {
      expect(post.comments).toHaveLength(VIEW_COMMENTS_PER_POST);
      expect(post.comments[0]!.content.startsWith(`${COMMENTS - VIEW_COMMENTS_PER_POST} `) || post.comments.length === VIEW_COMMENTS_PER_POST).toBe(true);
    }
  });

  it('when the older posts and the earlier comments are asked for, then each is one request away', async () => {
    const first = (await (await fetch(`${running().url('query')}/posts`)).json()) as Record<string, { comments: { id: string }[] }>;
    const oldestShown = Object.keys(first)[0]!;
    const older = await fetch(`${running().url('query')}/posts?before=${oldestShown}`);
    const olderIds = Object.keys((await older.json()) as object);
    expect(olderIds).toEqual(posts.slice(0, posts.indexOf(oldestShown)).slice(-olderIds.length));
    expect(olderIds.length).toBeGreaterThan(0);

    const earliestShown = first[oldestShown]!.comments[0]!.id;
    const earlier = (await (await fetch(`${running().url('comments')}/posts/${oldestShown}/comments?before=${earliestShown}`)).json()) as unknown[];
    expect(earlier).toHaveLength(COMMENTS - VIEW_COMMENTS_PER_POST);
    // query answers the same, with the statuses its view holds: every comment can be read from the view.
    const fromQuery = (await (await fetch(`${running().url('query')}/posts/${oldestShown}/comments?before=${earliestShown}`)).json()) as { status: string }[];
    expect(fromQuery).toHaveLength(COMMENTS - VIEW_COMMENTS_PER_POST);
    expect(fromQuery.every((comment) => comment.status !== undefined)).toBe(true);
  });

  it('when the whole view is read page by page, then it holds every post and every comment once', async () => {
    const view = await wholeView(running().url('query'));
    expect(Object.keys(view)).toEqual(posts);
    for (const post of Object.values(view)) expect(new Set(post.comments.map((comment) => comment.id)).size).toBe(COMMENTS);
  });
});

describe('one client holding what it may', () => {
  it('when one client holds every /updates stream it may, then it gets no more, and another client still gets one', async () => {
    const updates = `${running().url('query')}/updates`;
    const held: { status: number; end: () => void }[] = [];
    try {
      for (;;) {
        const stream = await getFrom(updates, '127.0.0.1');
        held.push(stream);
        if (stream.status !== 200) break;
      }
      expect(held.at(-1)!.status).toBe(503);
      expect(held.length - 1).toBe(50);
      const other = await getFrom(updates, '127.0.0.2');
      held.push(other);
      expect(other.status).toBe(200);
    } finally {
      for (const stream of held) stream.end();
    }
  });

  it('when one client holds a thousand idle sockets and opens more, then its extra ones are closed, and another client is served', async () => {
    const { port } = new URL(running().url('posts'));
    const sockets: net.Socket[] = [];
    try {
      for (let opened = 0; opened < 1_050; opened += 1) {
        sockets.push(await new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect({ host: '127.0.0.1', port: Number(port), localAddress: '127.0.0.1' }, () => resolve(socket));
          socket.on('error', reject);
        }));
      }
      await waitFor('the extra sockets to be closed', () => sockets.filter((socket) => socket.destroyed || socket.readableEnded).length >= 40, { timeoutMs: 5_000 });
      const other = await getFrom(`${running().url('posts')}/posts`, '127.0.0.2');
      expect(other.status).toBe(200);
      other.end();
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
