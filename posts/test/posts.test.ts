import request from 'supertest';
import { MemoryEngine, MAX_TITLE_LENGTH } from '@blog/contracts';
import { Lifecycle, EventReceiver } from '@blog/service-kit';
import { createApp } from '../src/app';
import { postsEventHandlers } from '../src/domain/applyEvent';
import { PostStore } from '../src/store/postStore';
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
