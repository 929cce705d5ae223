import { derivedEventId } from '@blog/contracts';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { LocalSystem, type CallerName } from './support/localSystem';
import { commentsInView, createComment, createPost, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

/**
 * Identity in the subject, on the credentialed cluster (three NATS servers, two processes of every
 * service, each logging in as itself, as infra/scale runs it): no service forges another's event on a
 * subject of its own, no caller silences a verdict by spending its id first, and a type or id that
 * cannot be a subject or a header is refused before anything is sent.
 */
jest.setTimeout(180_000);

let system: LocalSystem;

beforeAll(async () => {
  system = await LocalSystem.create({}, { engine: 'nats', natsNodes: 3, replicas: 2, credentials: true });
  await system.startAll();
});

afterAll(() => system?.stopAll());

type ServiceUser = 'posts' | 'comments' | 'moderation' | 'query';
const asUser = (user: ServiceUser) => connect({ servers: system.nats.map((node) => node.url), user, pass: system.credentials!.tokens[user], timeout: 2000 });

/** Publishes `body` straight to NATS as `user`, on `subject`, with `msgID`. */
async function publishAs(user: ServiceUser, subject: string, body: unknown, msgID: string) {
  const nc = await asUser(user);
  try {
    return await jetstream(nc, { timeout: 5000 }).publish(subject, JSON.stringify(body), { msgID });
  } finally {
    await nc.close();
  }
}

async function busPost(caller: CallerName, body: unknown) {
  const started = performance.now();
  const response = await fetch(`${system.url('event-bus')}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${system.credentials!.tokens[caller]}` }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { error?: string; details?: { message: string }[] }, ms: performance.now() - started };
}

const statusesIn = async (url: string) => commentsInView(await queryView(url));
const logged = (text: string) => system.processes().some(({ process }) => process.recentOutput().includes(text));

describe('a service forging another owner\'s event on a subject of its own', () => {
  it.each<[ServiceUser, string]>([
    ['posts', 'blog.events.PostCreated'],
    ['moderation', 'blog.events.CommentModerated'],
    ['comments', 'blog.events.CommentCreated'],
  ])('when %s publishes on %s a body that says CommentUpdated "approved" for a rejected comment, then no query replica shows it, before or after a restart, and the refusal is logged', async (user, subject) => {
    const post = await createPost(system.url('posts'), `Forged on ${subject}`);
    const comment = await createComment(system.url('comments'), post.body.id, 'an orange, to be rejected');
    for (const url of system.urls('query')) await waitFor('the real verdict', async () => (await statusesIn(url)).get(comment.body.id)?.status === 'rejected');

    const forged = { specversion: '1.0', id: `forged-${user}-${comment.body.id}`, source: '/comments', type: 'CommentUpdated', time: new Date().toISOString(), data: { id: comment.body.id, postId: post.body.id, content: 'rewritten', status: 'approved' } };
    await publishAs(user, subject, forged, forged.id);
    // A later real event, so every replica has read past the forgery.
    const marker = await createPost(system.url('posts'), `after the forgery by ${user}`);
    for (const url of system.urls('query')) await waitFor('the marker', async () => marker.body.id in (await queryView(url)));

    for (const url of system.urls('query')) expect((await statusesIn(url)).get(comment.body.id)).toMatchObject({ status: 'rejected', content: 'an orange, to be rejected' });
    expect(logged('refused an event')).toBe(true);
    const replica = system.replicas.query[1]!;
    await replica.restart();
    expect((await statusesIn(replica.url)).get(comment.body.id)).toMatchObject({ status: 'rejected', content: 'an orange, to be rejected' });
  });
});

describe('spending a verdict\'s id before moderation does', () => {
  it('when every credential publishes first under the ids anyone can derive from a comment, through the gateway and straight to NATS, then the verdict and its update still arrive', async () => {
    const post = await createPost(system.url('posts'), 'Silence attempt');
    await Promise.all(system.replicas.moderation.map((replica) => replica.stop('SIGKILL')));
    try {
      const comment = await createComment(system.url('comments'), post.body.id, 'an orange that must be rejected');
      const publicIds = [derivedEventId('CommentModerated', comment.body.id), derivedEventId('CommentUpdated', comment.body.id)];
      for (const id of publicIds) {
        // Through the gateway: the operator with a type nobody owns, each service with one of its own.
        // Stored (201), or taken for a repeat of an earlier one (200): either way the id is spent.
        const attempts: [CallerName, unknown][] = [
          ['operator', { id, type: 'SquatAttempt', data: {} }],
          ['posts', { id, type: 'PostCreated', data: { id: `squat-post-${comment.body.id}`, title: 'squat' } }],
          ['comments', { id, type: 'CommentCreated', data: { id: `squat-comment-${comment.body.id}`, postId: post.body.id, content: 'squat', status: 'pending' } }],
        ];
        for (const [caller, event] of attempts) {
          const answer = await busPost(caller, event);
          expect([caller, [200, 201].includes(answer.status)]).toEqual([caller, true]);
        }
        // Straight to NATS, on a subject of its own.
        await publishAs('posts', 'blog.events.PostCreated', { type: 'PostCreated', id, data: { id: `squat-${id}`, title: 'squat' } }, id);
      }
    } finally {
      await Promise.all(system.replicas.moderation.map((replica) => replica.start()));
    }
    const comment = [...(await statusesIn(system.urls('query')[0]!)).entries()].find(([, c]) => c.content === 'an orange that must be rejected')!;
    for (const url of system.urls('query')) await waitFor('the verdict, not silenced', async () => (await statusesIn(url)).get(comment[0])?.status === 'rejected', { timeoutMs: 30_000 });
  });
});

describe('types and ids that cannot be a subject or a header', () => {
  it.each([
    ['a type with a space', { type: 'Has Space', data: {} }, /type/],
    ['a type with a line break', { type: 'Line\nBreak', data: {} }, /type/],
    ['a type that is only a dot', { type: '.', data: {} }, /type/],
    ['a type with an empty part', { type: 'a..b', data: {} }, /type/],
    ['a wildcard type', { type: '>', data: {} }, /type/],
    ['an id with a line break', { id: 'abc\r\nX-Injected: 1', type: 'Fine', data: {} }, /id/],
    ['an id with a space', { id: 'has space', type: 'Fine', data: {} }, /id/],
  ])('when %s is published through the gateway, then it answers 400 at once saying why, and nothing is stored', async (_name, event, field) => {
    const before = (await (await fetch(`${system.url('event-bus')}/events/end`, { headers: { authorization: `Bearer ${system.credentials!.tokens.query}` } })).json()) as { lastSeq: number };
    const answer = await busPost('posts', event);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.details)).toMatch(field);
    expect(answer.ms).toBeLessThan(1_000);
    const after = (await (await fetch(`${system.url('event-bus')}/events/end`, { headers: { authorization: `Bearer ${system.credentials!.tokens.query}` } })).json()) as { lastSeq: number };
    expect(after.lastSeq).toBe(before.lastSeq);
  });

  it('when a batch of three holds one event with a bad type, then it answers 400 naming that event, and none of the three is stored', async () => {
    const before = (await (await fetch(`${system.url('event-bus')}/events/end`, { headers: { authorization: `Bearer ${system.credentials!.tokens.query}` } })).json()) as { lastSeq: number };
    const answer = await busPost('posts', [{ type: 'Fine', data: { n: 1 } }, { type: 'not a subject', data: {} }, { type: 'Fine', data: { n: 3 } }]);
    expect(answer.status).toBe(400);
    expect(answer.body.details).toEqual([expect.objectContaining({ path: '1.type' })]);
    const after = (await (await fetch(`${system.url('event-bus')}/events/end`, { headers: { authorization: `Bearer ${system.credentials!.tokens.query}` } })).json()) as { lastSeq: number };
    expect(after.lastSeq).toBe(before.lastSeq);
  });
});
