import request from 'supertest';
import { MemoryEngine, MAX_COMMENT_LENGTH, derivedEventId } from '@blog/contracts';
import { Lifecycle, EventReceiver } from '@blog/service-kit';
import { createApp } from '../src/app';
import { commentsEventHandlers, CommentStore } from '../src/store/commentStore';
import { aComment, commentCreated, commentVerdict, delivered, postCreated } from '../../test/support/factories';
import { badJsonBodies, send } from '../../test/support/badInput';
import { silentLogger } from '../../test/support/silentLogger';

async function setUp() {
  const bus = new MemoryEngine();
  const store = new CommentStore();
  const lifecycle = new Lifecycle();
  const receiver = new EventReceiver({ engine: bus, handlers: commentsEventHandlers(store), lifecycle, logger: silentLogger });
  const app = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger });
  const post = postCreated();
  await bus.publish(post);
  await receiver.catchUp();
  lifecycle.markReady();
  return { app, bus, store, receiver, postId: post.data.id };
}

describe('POST /posts/:id/comments', () => {
  it('when a comment is sent for a known post, then it answers 201 with the pending comment', async () => {
    const { app, postId } = await setUp();
    const content = aComment();

    const response = await request(app).post(`/posts/${postId}/comments`).send({ content });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), content, status: 'pending' });
  });

  it('when a comment is created, then a CommentCreated event is stored and the list shows it', async () => {
    const { app, bus, postId } = await setUp();
    const created = await request(app).post(`/posts/${postId}/comments`).send({ content: aComment() });

    const list = await request(app).get(`/posts/${postId}/comments`);

    expect(list.body).toEqual([created.body]);
    expect(bus.ofType('CommentCreated')).toMatchObject([{ data: { ...created.body, postId } }]);
  });

  it('when the post was just created and not yet delivered here, then the comment is still accepted', async () => {
    const { app, bus } = await setUp();
    const fresh = postCreated();
    await bus.publish(fresh);

    const response = await request(app).post(`/posts/${fresh.data.id}/comments`).send({ content: aComment() });

    expect(response.status).toBe(201);
  });

  it('when the post does not exist, then it answers 404 and stores nothing', async () => {
    const { app, bus } = await setUp();
    const before = bus.events.length;

    const response = await request(app).post('/posts/no-such-post/comments').send({ content: aComment() });

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'post no-such-post not found', details: [] });
    expect(bus.events).toHaveLength(before);
  });

  it('when the post id is too long, then it answers 404', async () => {
    const { app } = await setUp();
    const response = await request(app).post(`/posts/${'p'.repeat(500)}/comments`).send({ content: 'hi' });
    expect(response.status).toBe(404);
  });

  describe.each(badJsonBodies('content', MAX_COMMENT_LENGTH))('when the body is $name', (testCase) => {
    it(`then it answers ${testCase.status} with a JSON error and stores nothing`, async () => {
      const { app, bus, postId } = await setUp();
      const before = bus.events.length;

      const response = await send(app, `/posts/${postId}/comments`, testCase);

      expect(response.status).toBe(testCase.status);
      expect(response.body).toEqual({ error: expect.any(String), details: expect.any(Array) });
      expect(bus.events).toHaveLength(before);
      expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual([]);
    });
  });

  it('when the bus is unreachable, then it answers 503 and keeps nothing', async () => {
    const { app, bus, postId } = await setUp();
    bus.reachable = false;

    const response = await request(app).post(`/posts/${postId}/comments`).send({ content: aComment() });

    expect(response.status).toBe(503);
    bus.reachable = true;
    expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual([]);
  });
});

describe('POST /posts/:id/comments with an Idempotency-Key', () => {
  const comment = (app: Parameters<typeof request>[0], postId: string, key: string, content: string) =>
    request(app).post(`/posts/${postId}/comments`).set('Idempotency-Key', key).send({ content });

  it('when the same comment is sent twice, then one is stored and both answers are the comment as created', async () => {
    const { app, bus, postId } = await setUp();
    const first = await comment(app, postId, 'c-1', 'Once');
    await bus.publish({ type: 'CommentModerated', data: { id: first.body.id, postId, content: 'Once', status: 'approved' } });

    const again = await comment(app, postId, 'c-1', 'Once');

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ id: first.body.id, content: 'Once', status: 'pending' });
    expect(bus.ofType('CommentCreated')).toHaveLength(1);
    expect((await request(app).get(`/posts/${postId}/comments`)).body).toHaveLength(1);
  });

  it('when the key comes again with other text or on another post, then it answers 422 and stores nothing', async () => {
    const { app, bus, postId } = await setUp();
    const other = postCreated();
    await bus.publish(other);
    await comment(app, postId, 'c-1', 'Once').expect(201);

    expect((await comment(app, postId, 'c-1', 'Twice')).status).toBe(422);
    expect((await comment(app, other.data.id, 'c-1', 'Once')).status).toBe(422);
    expect(bus.ofType('CommentCreated')).toHaveLength(1);
  });

  it('when repeats of one key arrive together, then one comment is stored', async () => {
    const { app, bus, postId } = await setUp();

    const answers = await Promise.all(Array.from({ length: 8 }, () => comment(app, postId, 'burst', 'Burst')));

    expect(bus.ofType('CommentCreated')).toHaveLength(1);
    for (const answer of answers) expect([201, 409]).toContain(answer.status);
    expect(answers.filter((answer) => answer.status === 201).length).toBeGreaterThan(0);
  });

  it('when the first attempt was stored but this process never kept it, then the retry reads the log and answers the same comment', async () => {
    const { app, bus, postId } = await setUp();
    const first = await comment(app, postId, 'lost-answer', 'Survivor');
    const store = new CommentStore();
    const lifecycle = new Lifecycle();
    lifecycle.markReady();
    const receiver = new EventReceiver({ engine: bus, handlers: commentsEventHandlers(store), lifecycle, logger: silentLogger });
    const restarted = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger });

    const retry = await comment(restarted, postId, 'lost-answer', 'Survivor');

    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(bus.ofType('CommentCreated')).toHaveLength(1);
  });
});

describe('GET /posts/:id/comments', () => {
  it('when the post has no comments, then it answers an empty list', async () => {
    const { app, postId } = await setUp();
    await request(app).get(`/posts/${postId}/comments`).expect(200, []);
  });

  it('when the post is unknown, then it answers 404', async () => {
    const { app } = await setUp();
    const response = await request(app).get('/posts/missing/comments');
    expect(response.status).toBe(404);
    expect(response.body.error).toMatch(/not found/);
  });
});

describe('moderation verdicts', () => {
  it('when CommentModerated is delivered, then the status changes and CommentUpdated is published once, even if delivered twice', async () => {
    const { app, bus, postId } = await setUp();
    const created = await request(app).post(`/posts/${postId}/comments`).send({ content: aComment() });
    const verdict = commentVerdict('CommentModerated', { ...created.body, postId }, 'approved');
    const [envelope] = delivered([verdict], 10);

    await request(app).post('/events').send(envelope).expect(200);
    await request(app).post('/events').send(envelope).expect(200);

    expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual([{ ...created.body, status: 'approved' }]);
    expect(bus.ofType('CommentUpdated')).toMatchObject([
      { id: derivedEventId('CommentUpdated', created.body.id), data: { ...created.body, postId, status: 'approved' } },
    ]);
  });

  it('when the bus asks for follow-ups in the answer, then CommentUpdated is answered, not published', async () => {
    const { app, bus, postId } = await setUp();
    const created = await request(app).post(`/posts/${postId}/comments`).send({ content: aComment() });
    const [envelope] = delivered([commentVerdict('CommentModerated', { ...created.body, postId }, 'rejected')], 10);

    const response = await request(app)
      .post('/events')
      .set('x-follow-ups', 'in-answer')
      .send({ ...envelope, requestid: 'req-42' })
      .expect(200);

    expect(response.body).toMatchObject({ received: 1, handled: 1, ignored: 0 });
    expect(response.body.publish).toMatchObject([
      {
        specversion: '1.0',
        type: 'CommentUpdated',
        id: derivedEventId('CommentUpdated', created.body.id),
        source: bus.source,
        requestid: 'req-42',
        data: { ...created.body, postId, status: 'rejected' },
      },
    ]);
    expect(bus.ofType('CommentUpdated')).toHaveLength(0);
    expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual([{ ...created.body, status: 'rejected' }]);
  });

  it('when a verdict is final, then a later different verdict does not change it', async () => {
    const { app, postId } = await setUp();
    const comment = commentCreated(postId);
    const data = comment.data;
    await request(app)
      .post('/events')
      .send(delivered([comment, commentVerdict('CommentModerated', data, 'rejected'), commentVerdict('CommentModerated', data, 'approved')]))
      .expect(200);

    expect((await request(app).get(`/posts/${postId}/comments`)).body).toMatchObject([{ id: data.id, status: 'rejected' }]);
  });

  it('when verdicts are replayed from the log at start, then the state has them but nothing is published', async () => {
    const bus = new MemoryEngine();
    const post = postCreated();
    const comment = commentCreated(post.data.id);
    await bus.publish(post);
    await bus.publish(comment);
    await bus.publish(commentVerdict('CommentModerated', comment.data, 'approved'));
    const store = new CommentStore();
    const receiver = new EventReceiver({ engine: bus, handlers: commentsEventHandlers(store), lifecycle: new Lifecycle(), logger: silentLogger });

    await receiver.catchUp();

    expect(store.commentsOf(post.data.id)).toMatchObject([{ id: comment.data.id, status: 'approved' }]);
    expect(bus.ofType('CommentUpdated')).toHaveLength(0);
  });

  it('when publishing CommentUpdated fails, then the delivery fails so the bus retries it', async () => {
    const { app, bus, postId } = await setUp();
    const comment = commentCreated(postId);
    await request(app).post('/events').send(delivered([comment])).expect(200);
    bus.reachable = false;

    const response = await request(app)
      .post('/events')
      .send(delivered([commentVerdict('CommentModerated', comment.data, 'approved')], 5));

    expect(response.status).toBe(503);
  });
});

describe('events that refer to what this service does not hold', () => {
  it('when CommentCreated names a post that was never created, then the post stays unknown and comments on it are refused', async () => {
    const { app } = await setUp();
    const ghost = commentCreated('ghost-post');

    await request(app).post('/events').send(delivered([ghost], 10)).expect(200);

    expect((await request(app).get('/posts/ghost-post/comments')).status).toBe(404);
    expect((await request(app).post('/posts/ghost-post/comments').send({ content: aComment() })).status).toBe(404);
  });

  it('when a verdict names a comment this service never held, then it changes nothing and announces nothing', async () => {
    const { app, bus, postId } = await setUp();
    const stranger = commentVerdict('CommentModerated', { id: 'never-created', postId, content: 'made up' }, 'approved');

    const response = await request(app).post('/events').set('x-follow-ups', 'in-answer').send(delivered([stranger], 10)).expect(200);

    expect(response.body.publish ?? []).toEqual([]);
    expect(bus.ofType('CommentUpdated')).toHaveLength(0);
    expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual([]);
  });

  it('when a verdict carries other text than the comment, then the announcement carries the text this service stored', async () => {
    const { app, bus, postId } = await setUp();
    const created = await request(app).post(`/posts/${postId}/comments`).send({ content: aComment() });
    const rewritten = commentVerdict('CommentModerated', { id: created.body.id, postId, content: 'rewritten by a verdict' }, 'approved');

    await request(app).post('/events').send(delivered([rewritten], 10)).expect(200);

    expect(bus.ofType('CommentUpdated')).toMatchObject([{ data: { id: created.body.id, content: created.body.content, status: 'approved' } }]);
    expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual([{ ...created.body, status: 'approved' }]);
  });

  it('when a second, contrary verdict arrives after the first, then it announces nothing new', async () => {
    const { app, bus, postId } = await setUp();
    const comment = commentCreated(postId);
    await request(app).post('/events').send(delivered([comment], 10)).expect(200);

    await request(app).post('/events').send(delivered([commentVerdict('CommentModerated', comment.data, 'rejected')], 11)).expect(200);
    await request(app).post('/events').send(delivered([commentVerdict('CommentModerated', comment.data, 'approved')], 12)).expect(200);

    expect(bus.ofType('CommentUpdated')).toMatchObject([{ data: { id: comment.data.id, status: 'rejected' } }]);
  });
});
