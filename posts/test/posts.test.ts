import request from 'supertest';
import { MemoryEngine, MAX_TITLE_LENGTH } from '@blog/contracts';
import { Lifecycle, EventReceiver, idSealer } from '@blog/service-kit';
import { createApp } from '../src/app';
import { postsEventHandlers, PostStore } from '../src/store/postStore';
import { aTitle, delivered, postCreated } from '../../test/support/factories';
import { badJsonBodies, send } from '../../test/support/badInput';
import { silentLogger } from '../../test/support/silentLogger';

function setUp({ ready = true } = {}) {
  const bus = new MemoryEngine();
  const store = new PostStore();
  const lifecycle = new Lifecycle();
  const receiver = new EventReceiver({ engine: bus, handlers: postsEventHandlers(store), lifecycle, logger: silentLogger });
  if (ready) lifecycle.markReady();
  const app = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger });
  return { app, bus, store, lifecycle, receiver };
}

describe('POST /posts', () => {
  it.each(['/posts', '/posts/create'])('when a title is sent to %s, then it answers 201 with the new post', async (path) => {
    const { app } = setUp();
    const title = aTitle();

    const response = await request(app).post(path).send({ title });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), title });
  });

  it('when a post is created, then GET /posts lists it and a PostCreated event is stored', async () => {
    const { app, bus } = setUp();
    const created = await request(app).post('/posts').send({ title: aTitle() });

    const list = await request(app).get('/posts');

    expect(list.status).toBe(200);
    expect(list.body[created.body.id]).toEqual(created.body);
    expect(bus.ofType('PostCreated')).toMatchObject([{ source: '/test', data: created.body }]);
  });

  it('when the title has surrounding spaces, then they are trimmed', async () => {
    const { app } = setUp();
    const response = await request(app).post('/posts').send({ title: '  spaced out  ' });
    expect(response.body.title).toBe('spaced out');
  });

  it('when the body has extra fields, then they are ignored and the post is created', async () => {
    const { app, bus } = setUp();
    const response = await request(app).post('/posts').send({ title: 'ok', id: 'chosen', __proto__: { admin: true } });
    expect(response.status).toBe(201);
    expect(response.body.id).not.toBe('chosen');
    expect(bus.events[0]!.data).toEqual({ id: response.body.id, title: 'ok' });
  });

  describe.each(badJsonBodies('title', MAX_TITLE_LENGTH))('when the body is $name', (testCase) => {
    it(`then it answers ${testCase.status} with a JSON error and stores nothing`, async () => {
      const { app, bus, store } = setUp();

      const response = await send(app, '/posts', testCase);

      expect(response.status).toBe(testCase.status);
      expect(response.body).toEqual({ error: expect.any(String), details: expect.any(Array) });
      expect(bus.events).toHaveLength(0);
      expect(store.size).toBe(0);
    });
  });

  it('when the title is invalid, then the details name the field', async () => {
    const { app } = setUp();
    const response = await request(app).post('/posts').send({ title: 7 });
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'title' })]);
  });

  it('when the bus is unreachable, then it answers 503 and keeps nothing', async () => {
    const { app, bus } = setUp();
    bus.reachable = false;

    const response = await request(app).post('/posts').send({ title: aTitle() });

    expect(response.status).toBe(503);
    expect(response.body.error).toMatch(/bus/);
    bus.reachable = true;
    expect((await request(app).get('/posts')).body).toEqual({});
  });
});

describe('POST /posts with an Idempotency-Key', () => {
  it('when the same request is sent twice, through either path, then one post is stored and both answer it', async () => {
    const { app, bus } = setUp();

    const first = await request(app).post('/posts').set('Idempotency-Key', 'draft-1').send({ title: 'Once' });
    const again = await request(app).post('/posts/create').set('Idempotency-Key', 'draft-1').send({ title: 'Once' });

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(bus.ofType('PostCreated')).toHaveLength(1);
    expect(Object.values((await request(app).get('/posts')).body)).toEqual([first.body]);
  });

  it('when the key comes again with another title, then it answers 422 and stores nothing', async () => {
    const { app, bus } = setUp();
    await request(app).post('/posts').set('Idempotency-Key', 'draft-1').send({ title: 'Once' }).expect(201);

    const response = await request(app).post('/posts').set('Idempotency-Key', 'draft-1').send({ title: 'Twice' });

    expect(response.status).toBe(422);
    expect(response.body).toEqual({ error: expect.stringMatching(/Idempotency-Key/), details: [expect.objectContaining({ path: 'Idempotency-Key' })] });
    expect(bus.ofType('PostCreated')).toHaveLength(1);
  });

  it('when repeats of one key arrive together, then one post is stored and every 201 answers it', async () => {
    const { app, bus } = setUp();

    const answers = await Promise.all(Array.from({ length: 8 }, () => request(app).post('/posts').set('Idempotency-Key', 'burst').send({ title: 'Burst' })));

    expect(bus.ofType('PostCreated')).toHaveLength(1);
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThan(0);
    const [stored] = bus.ofType('PostCreated');
    for (const answer of created) expect(answer.body).toEqual(stored!.data);
    for (const answer of answers) expect([201, 409]).toContain(answer.status);
  });

  it('when the first attempt was stored by a process that died before answering, then the retry answers the same post and stores nothing', async () => {
    const { app, bus } = setUp();
    const first = await request(app).post('/posts').set('Idempotency-Key', 'lost-answer').send({ title: 'Survivor' });
    // A fresh process on the same log, which has not read it yet.
    const store = new PostStore();
    const lifecycle = new Lifecycle();
    lifecycle.markReady();
    const receiver = new EventReceiver({ engine: bus, handlers: postsEventHandlers(store), lifecycle, logger: silentLogger });
    const restarted = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger });

    const retry = await request(restarted).post('/posts').set('Idempotency-Key', 'lost-answer').send({ title: 'Survivor' });

    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(bus.ofType('PostCreated')).toHaveLength(1);
  });

  it('when the service seals its ids, then the post id is not the one the key gives without its secret', async () => {
    const { bus, store, lifecycle, receiver } = setUp();
    const sealed = createApp({ engine: bus, receiver, store, lifecycle, logger: silentLogger, sealId: idSealer('posts-secret-0123456789abcdef') });
    const plain = setUp();

    const one = await request(sealed).post('/posts').set('Idempotency-Key', 'k').send({ title: 'Sealed' });
    const other = await request(plain.app).post('/posts').set('Idempotency-Key', 'k').send({ title: 'Sealed' });

    expect(one.body.id).not.toBe(other.body.id);
    expect(bus.events[0]!.id).not.toBe(plain.bus.events[0]!.id);
  });

  it('when the key is not printable ASCII of at most 255 characters, then it answers 400 and stores nothing', async () => {
    const { app, bus } = setUp();

    const response = await request(app).post('/posts').set('Idempotency-Key', 'k'.repeat(256)).send({ title: 'Too long a key' });

    expect(response.status).toBe(400);
    expect(response.body.details).toEqual([expect.objectContaining({ path: 'Idempotency-Key' })]);
    expect(bus.events).toHaveLength(0);
  });

  it('when two requests carry different keys, then each makes its own post', async () => {
    const { app, bus } = setUp();
    const one = await request(app).post('/posts').set('Idempotency-Key', 'a').send({ title: 'Same title' });
    const two = await request(app).post('/posts').set('Idempotency-Key', 'b').send({ title: 'Same title' });
    expect(one.body.id).not.toBe(two.body.id);
    expect(bus.ofType('PostCreated')).toHaveLength(2);
  });
});

describe('POST /events', () => {
  it('when PostCreated is delivered twice, then the post is listed once', async () => {
    const { app } = setUp();
    const event = postCreated();
    const [envelope] = delivered([event]);

    await request(app).post('/events').send(envelope).expect(200);
    await request(app).post('/events').send(envelope).expect(200);

    const list = await request(app).get('/posts');
    expect(Object.values(list.body)).toEqual([event.data]);
  });

  it('when a batch is delivered, then every event in it is applied in order', async () => {
    const { app } = setUp();
    const events = [postCreated(), postCreated(), postCreated()];

    const response = await request(app).post('/events').send(delivered(events));

    expect(response.body).toEqual({ received: 3, handled: 3, ignored: 0 });
    expect(Object.keys((await request(app).get('/posts')).body)).toEqual(events.map((e) => e.data.id));
  });

  it('when an unknown event type arrives, then it is acknowledged and ignored', async () => {
    const { app } = setUp();
    const response = await request(app).post('/events').send({ type: 'PostLiked', data: { id: 'x' } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: 1, handled: 0, ignored: 1 });
  });

  it('when a known event has malformed data, then it answers 400 and applies nothing of the batch', async () => {
    const { app } = setUp();
    const good = delivered([postCreated()])[0]!;
    const bad = { type: 'PostCreated', data: { title: 'no id' } };

    const response = await request(app).post('/events').send([good, bad]);

    expect(response.status).toBe(400);
    expect(response.body.details[0].path).toMatch(/^1\.data\.id/);
    expect((await request(app).get('/posts')).body).toEqual({});
  });

  it('when an event has no type, then it answers 400', async () => {
    const { app } = setUp();
    const response = await request(app).post('/events').send({ data: {} });
    expect(response.status).toBe(400);
  });

  it('when the service has not replayed the log yet, then deliveries get 503 so the bus retries', async () => {
    const { app } = setUp({ ready: false });
    const response = await request(app).post('/events').send(delivered([postCreated()])[0]);
    expect(response.status).toBe(503);
  });
});

describe('replay on start', () => {
  it('when the service has not caught up with the log yet, then GET /posts answers 503 with Retry-After, not a partial list', async () => {
    const { app, bus, lifecycle } = setUp({ ready: false });
    await bus.publish(postCreated());

    const early = await request(app).get('/posts');
    lifecycle.markReady();
    const later = await request(app).get('/posts');

    expect(early.status).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect(early.body.error).toMatch(/still reading the event log/);
    expect(later.status).toBe(200);
  });

  it('when the log holds posts, then catching up rebuilds the list in order, once', async () => {
    const { app, bus, receiver, lifecycle } = setUp({ ready: false });
    const first = await bus.publish(postCreated());
    await bus.publish(postCreated());
    await bus.publish({ type: 'CommentCreated', data: { id: 'c', postId: 'p', content: 'x', status: 'pending' } });

    await receiver.catchUp();
    await receiver.catchUp();
    lifecycle.markReady();

    const list = await request(app).get('/posts');
    expect(Object.keys(list.body)).toEqual(bus.ofType('PostCreated').map((e) => (e.data as { id: string }).id));
    expect(first.seq).toBe(1);
    expect(receiver.position).toBe(3);
  });
});

describe('health and unknown routes', () => {
  it('answers /healthz always and /readyz only once ready and not draining', async () => {
    const { app, lifecycle } = setUp({ ready: false });
    await request(app).get('/healthz').expect(200);
    await request(app).get('/readyz').expect(503);
    lifecycle.markReady();
    await request(app).get('/readyz').expect(200);
    lifecycle.markDraining();
    await request(app).get('/readyz').expect(503);
    await request(app).get('/healthz').expect(200);
  });

  it('when a route does not exist, then it answers 404 JSON', async () => {
    const { app } = setUp();
    const response = await request(app).delete('/posts');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'no route for DELETE /posts', details: [] });
  });
});
