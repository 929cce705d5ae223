import { derivedEventId } from '@blog/contracts';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { LocalSystem } from './support/localSystem';
import { commentsInView, getJson, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

/**
 * Writes sent with an Idempotency-Key, through the real processes with credentials (so the derived ids
 * are sealed): on the embedded engine, and on three NATS servers with two processes of each service
 * and a dedupe window of 2 s, short enough to test what happens after it.
 */
jest.setTimeout(180_000);

const DEDUPE_WINDOW_MS = 2_000;

interface Answer {
  status: number;
  body: { id: string; title?: string; content?: string; error?: string };
}

interface Logged {
  id: string;
  seq: number;
  type: string;
  data: { id: string };
}

describe.each([
  { engine: 'embedded' as const, options: {}, env: {} },
  { engine: 'nats' as const, options: { natsNodes: 3, replicas: 2 }, env: { NATS_DEDUPE_WINDOW_MS: String(DEDUPE_WINDOW_MS) } },
])('keyed writes on the $engine engine', ({ engine, options, env }) => {
  let system: LocalSystem;
  let sent = 0;

  beforeAll(async () => {
    system = await LocalSystem.create(env, { engine, credentials: true, ...options });
    await system.startAll();
  });
  afterAll(() => system?.stopAll());

  /** Each request to the next process of the service, as a load balancer would spread them. */
  const nextUrl = (name: 'posts' | 'comments') => {
    const urls = system.urls(name);
    return urls[sent++ % urls.length]!;
  };
  async function send(name: 'posts' | 'comments', path: string, key: string, body: unknown, url = nextUrl(name)): Promise<Answer> {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }
  const post = (key: string, title: string, url?: string) => send('posts', '/posts', key, { title }, url);
  const comment = (key: string, postId: string, content: string) => send('comments', `/posts/${postId}/comments`, key, { content });

  /** The whole log as the bus (or the gateway) serves it, read with the client's read-only credential. */
  const log = async () => {
    const response = await fetch(`${system.url('event-bus')}/events?after=0&limit=10000`, { headers: { authorization: `Bearer ${system.credentials!.tokens.client}` } });
    return (await response.json()) as Logged[];
  };
  const storedAbout = async (id: string) => (await log()).filter((event) => event.data.id === id);

  it('when a post and a comment are each sent twice with their key, then each is stored once and both answers are the same resource', async () => {
    const first = await post('tour-post', 'Sent twice');
    const again = await post('tour-post', 'Sent twice');
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);

    const one = await comment('tour-comment', first.body.id, 'Also sent twice');
    const two = await comment('tour-comment', first.body.id, 'Also sent twice');
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(two.body).toEqual({ id: one.body.id, content: 'Also sent twice', status: 'pending' });

    expect(await storedAbout(first.body.id)).toHaveLength(1);
    expect((await storedAbout(one.body.id)).filter((event) => event.type === 'CommentCreated')).toHaveLength(1);
    await waitFor('the comment in the view', async () => commentsInView(await queryView(system.url('query'))).has(one.body.id));
    expect(Object.values(await queryView(system.url('query'))).filter((shown) => shown.title === 'Sent twice')).toHaveLength(1);
  });

  it('when a used key comes with another body, then it answers 422 and stores nothing', async () => {
    const first = await post('reused', 'The first body');

    const other = await post('reused', 'Another body');
    const onOtherPost = await comment('reused-comment', first.body.id, 'x');
    const otherText = await comment('reused-comment', first.body.id, 'y');

    expect(other.status).toBe(422);
    expect(other.body.error).toMatch(/Idempotency-Key/);
    expect([onOtherPost.status, otherText.status]).toEqual([201, 422]);
    const stored = await log();
    expect(stored.filter((event) => event.type === 'PostCreated' && event.data.id === first.body.id)).toHaveLength(1);
    expect(stored.filter((event) => event.type === 'CommentCreated' && event.data.id === onOtherPost.body.id)).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toMatch(/Another body|"content":"y"/);
  });

  it('when one key is sent many times at once, to every process of the service, then one post is stored and every 201 answers it', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => post('burst', 'Sent at once')));

    const created = answers.filter((answer) => answer.status === 201);
    expect(answers.every((answer) => answer.status === 201 || answer.status === 409)).toBe(true);
    expect(created.length).toBeGreaterThan(0);
    expect(new Set(created.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
    expect(await storedAbout(created[0]!.body.id)).toHaveLength(1);
  });

  it('when the service holds a secret, then the ids a key gives are sealed: not the ones anyone derives from the key', async () => {
    const made = await post('sealed', 'Sealed ids');
    const [stored] = await storedAbout(made.body.id);
    expect(made.body.id).not.toBe(derivedEventId('PostCreated', 'key:resource:sealed'));
    expect(stored!.id).not.toBe(derivedEventId('PostCreated', 'key:event:sealed'));
  });

  if (engine === 'nats') {
    it(`when a key is sent again after the ${DEDUPE_WINDOW_MS / 1000} s dedupe window, and even when its event is stored a second time, then every view shows the post and the comment once`, async () => {
      const made = await post('after-window', 'Past the window');
      const said = await comment('after-window-comment', made.body.id, 'Past the window too');
      await new Promise((resolve) => setTimeout(resolve, DEDUPE_WINDOW_MS + 1_000));

      // Each process answers from what it holds: nothing is published again.
      for (const url of system.urls('posts')) expect((await post('after-window', 'Past the window', url)).body).toEqual(made.body);
      expect(await storedAbout(made.body.id)).toHaveLength(1);

      // What the window no longer stops: the same events stored again under their ids (as a process that
      // did not hold them would publish them), straight to NATS with each owner's credential.
      for (const [user, id] of [['posts', made.body.id], ['comments', said.body.id]] as const) {
        const [event] = (await storedAbout(id)).filter((stored) => stored.type !== 'CommentModerated' && stored.type !== 'CommentUpdated');
        const { seq: _seq, ...envelope } = event!;
        const nc = await connect({ servers: system.nats.map((node) => node.url), user, pass: system.credentials!.tokens[user] });
        try {
          const ack = await jetstream(nc).publish(`blog.events.${envelope.type}`, JSON.stringify(envelope), { msgID: envelope.id });
          expect(ack.duplicate).toBe(false);
        } finally {
          await nc.close();
        }
      }
      expect(await storedAbout(made.body.id)).toHaveLength(2);

      const marker = await post('after-window-marker', 'After the second copies');
      for (const url of system.urls('query')) {
        await waitFor('the marker in the view', async () => marker.body.id in (await queryView(url)));
        const view = await queryView(url);
        expect(Object.values(view).filter((shown) => shown.id === made.body.id)).toHaveLength(1);
        expect(view[made.body.id]!.comments.filter((shown) => shown.id === said.body.id)).toHaveLength(1);
      }
      for (const url of system.urls('posts')) {
        await waitFor('the marker in posts', async () => marker.body.id in (await getJson<Record<string, unknown>>(`${url}/posts`)));
        expect(Object.keys(await getJson<Record<string, unknown>>(`${url}/posts`)).filter((id) => id === made.body.id)).toHaveLength(1);
      }
      for (const url of system.urls('comments')) {
        expect((await getJson<{ id: string }[]>(`${url}/posts/${made.body.id}/comments`)).filter((shown) => shown.id === said.body.id)).toHaveLength(1);
      }
      // And a process that starts now, replaying both copies, holds each once.
      const replica = system.replicas.query[1]!;
      await replica.restart();
      const replayed = await queryView(replica.url);
      expect(Object.values(replayed).filter((shown) => shown.id === made.body.id)).toHaveLength(1);
      expect(replayed[made.body.id]!.comments.filter((shown) => shown.id === said.body.id)).toHaveLength(1);
    });
  }
});
