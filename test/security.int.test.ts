import { EVENT_OWNERS, type EventType } from '@blog/contracts';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { CALLER_NAMES, LocalSystem, SERVICE_NAMES, type CallerName, type EngineName } from './support/localSystem';
import { commentsInView, createComment, createPost, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(120_000);

/** A valid `data` for each event type, about a post and comment that `ids` names. */
function dataOf(type: EventType, ids: { postId: string; commentId: string }) {
  if (type === 'PostCreated') return { id: ids.postId, title: 'Forged post' };
  const status = type === 'CommentCreated' ? 'pending' : 'approved';
  return { id: ids.commentId, postId: ids.postId, content: 'Forged text with orange', status };
}

/** Every (caller, type) pair where the caller does not own the type: what least privilege must refuse. */
const FORGERIES = CALLER_NAMES.flatMap((caller) =>
  (Object.keys(EVENT_OWNERS) as EventType[]).filter((type) => EVENT_OWNERS[type] !== caller).map((type) => [caller, type] as const),
);

async function busCall(system: LocalSystem, path: string, caller: CallerName | null, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (caller) headers.authorization = `Bearer ${system.credentials!.tokens[caller]}`;
  const response = await fetch(`${system.url('event-bus')}${path}`, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

const logOf = async (system: LocalSystem) => (await busCall(system, '/events', 'query')).body as { id: string; type: string; source: string; data: { id: string } }[];

describe.each<EngineName>(['embedded', 'nats'])('least privilege on the %s engine: each service its own credential, each publishing only its own types', (engine) => {
  let system: LocalSystem;

  beforeAll(async () => {
    system = await LocalSystem.create({}, { engine, credentials: true });
    await system.startAll();
  });

  afterAll(() => system?.stopAll());

  it('when a comment is created, then it travels through the engine to its final status in query, each event from its owner', async () => {
    const post = await createPost(system.url('posts'), 'Guarded post');
    const comment = await createComment(system.url('comments'), post.body.id, 'an orange comment');

    expect([post.status, comment.status]).toEqual([201, 201]);
    await waitFor('the rejected comment in query', async () => commentsInView(await queryView(system.url('query'))).get(comment.body.id)?.status === 'rejected');
    const chain = (await logOf(system)).filter((event) => [post.body.id, comment.body.id].includes(event.data.id));
    expect(chain.map((event) => `${event.type} from ${event.source}`)).toEqual([
      'PostCreated from /posts',
      'CommentCreated from /comments',
      'CommentModerated from /moderation',
      'CommentUpdated from /comments',
    ]);
  });

  it.each(FORGERIES)('when %s publishes %s through the bus, then it answers 403 saying why and stores nothing', async (caller, type) => {
    const before = (await logOf(system)).length;
    const forged = { type, data: dataOf(type, { postId: `forged-post-${caller}`, commentId: `forged-comment-${caller}-${type}` }) };

    const answer = await busCall(system, '/events', caller, forged);

    expect(answer.status).toBe(403);
    expect(answer.body.details[0].message).toBe(caller === 'client' ? 'client may only read the log, not publish' : `${caller} may not publish ${type}; only ${EVENT_OWNERS[type]} may`);
    expect((await logOf(system)).length).toBe(before);
  });

  it('when a caller without a credential, or with a wrong one, publishes or reads, then it answers 401 and the health checks still answer', async () => {
    const event = { type: 'PostCreated', data: { id: 'anonymous-post', title: 'Anonymous' } };
    const wrong = await fetch(`${system.url('event-bus')}/events`, { headers: { authorization: 'Bearer not-a-token-of-anyone-here' } });

    expect((await busCall(system, '/events', null, event)).status).toBe(401);
    expect((await busCall(system, '/events', null)).status).toBe(401);
    expect(wrong.status).toBe(401);
    expect((await fetch(`${system.url('event-bus')}/healthz`)).status).toBe(200);
    expect((await fetch(`${system.url('query')}/posts`)).status).toBe(200);
  });

  // On NATS the services pull their events: they have no /events to push one into at all.
  it.each(SERVICE_NAMES)('when %s is sent an event without a token, then it refuses it and applies nothing', async (name) => {
    const pulls = engine === 'nats' && name !== 'event-bus';
      const response = await fetch(`${system.url(name)}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'PostCreated', data: { id: 'forged-delivery', title: 'Forged' } }),
      });

      expect(response.status).toBe(pulls ? 404 : 401);
      expect(await response.json()).toEqual({ error: pulls ? expect.any(String) : expect.stringMatching(/bus token/), details: [] });
      expect(await queryView(system.url('query'))).not.toHaveProperty('forged-delivery');
  });

  it('when the comments credential itself is used to announce a comment on a post that does not exist, then no service takes that post as real', async () => {
    const ghost = { type: 'CommentCreated', data: { id: 'ghost-comment', postId: 'ghost-post', content: 'On nothing', status: 'pending' } };

    expect((await busCall(system, '/events', 'comments', ghost)).status).toBe(201);
    // A marker after it: once query has it, the ghost comment has been through every service.
    const marker = await createPost(system.url('posts'), 'After the ghost');
    await waitFor('the marker in query', async () => (await queryView(system.url('query')))[marker.body.id] !== undefined);

    expect((await createComment(system.url('comments'), 'ghost-post', 'Onto the ghost')).status).toBe(404);
    expect(await queryView(system.url('query'))).not.toHaveProperty('ghost-post');
  });

  it.each(['posts', 'comments', 'moderation', 'query'] as const)('when %s publishes a type nobody owns, then it answers 403 saying only the operator may; the operator may', async (caller) => {
    const answer = await busCall(system, '/events', caller, { type: 'SomethingNew', data: {} });

    expect(answer.status).toBe(403);
    expect(answer.body.details[0].message).toBe('SomethingNew has no owner: only the operator may publish it (give it one in contracts/src/owners.ts)');
    expect((await busCall(system, '/events', 'operator', { type: 'SomethingNew', data: {} })).status).toBe(201);
  });

  it('when the read-only client credential publishes a type nobody owns, then it answers 403; it may read the log', async () => {
    const answer = await busCall(system, '/events', 'client', { type: 'SomethingNew', data: {} });

    expect(answer.status).toBe(403);
    expect(answer.body.details[0].message).toBe('client may only read the log, not publish');
    expect((await busCall(system, '/events', 'client')).status).toBe(200);
  });

  it('when a service asks the bus to retry dead letters, then it answers 403; the operator credential may', async () => {
    const byService = await busCall(system, '/dead-letters/retry', 'moderation', {});
    const byOperator = await busCall(system, '/dead-letters/retry', 'operator', {});

    expect(byService.status).toBe(403);
    expect(byService.body.error).toMatch(/takes the operator credential/);
    expect(byOperator.status).toBe(202);
  });

  if (engine === 'nats') {
    describe('straight to NATS, past the gateway', () => {
      const as = (user: 'posts' | 'comments' | 'query') =>
        connect({ servers: system.nats.map((node) => node.url), user, pass: system.credentials!.tokens[user], timeout: 2000 });

      it('when a service publishes a type it does not own to its subject, then NATS refuses it and the stream does not grow', async () => {
        const nc = await as('comments');
        try {
          const js = jetstream(nc, { timeout: 2000 });
          const before = (await logOf(system)).length;

          const verdict = js.publish('blog.events.CommentModerated', JSON.stringify({ id: 'x' }), { msgID: 'forged-verdict' });

          await expect(verdict).rejects.toThrow(/Permissions Violation for Publish to "blog.events.CommentModerated"/);
          expect((await logOf(system)).length).toBe(before);
        } finally {
          await nc.close();
        }
      });

      it("when a service tries to delete, purge or reconfigure the stream, or to read another service's durable consumer, then NATS refuses it", async () => {
        const nc = await as('query');
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2000 });
          const js = jetstream(nc, { timeout: 2000 });

          await expect(jsm.streams.delete('BLOG_EVENTS')).rejects.toThrow(/Permissions Violation/);
          await expect(jsm.streams.purge('BLOG_EVENTS')).rejects.toThrow(/Permissions Violation/);
          await expect(jsm.streams.update('BLOG_EVENTS', { num_replicas: 1 })).rejects.toThrow(/Permissions Violation/);
          await expect(jsm.consumers.delete('BLOG_EVENTS', 'moderation')).rejects.toThrow(/Permissions Violation/);
          const moderation = await js.consumers.get('BLOG_EVENTS', 'moderation').catch((error: Error) => error);
          expect(String(moderation)).toMatch(/Permissions Violation/);
          expect((await logOf(system)).length).toBeGreaterThan(0);
        } finally {
          await nc.close();
        }
      });

      it('when a client connects with no user or a wrong password, then NATS refuses the connection', async () => {
        await expect(connect({ servers: system.nats[0]!.url, timeout: 2000, reconnect: false })).rejects.toThrow(/Authorization/i);
        await expect(connect({ servers: system.nats[0]!.url, user: 'posts', pass: 'wrong-password-0123456', timeout: 2000, reconnect: false })).rejects.toThrow(/Authorization/i);
      });
    });
  }
});
