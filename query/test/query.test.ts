import http from 'node:http';
import request from 'supertest';
import { MemoryEngine } from '@blog/contracts';
import { Lifecycle, EventReceiver } from '@blog/service-kit';
import { createApp } from '../src/app';
import { queryEventHandlers, QueryStore } from '../src/view';
import { LiveReaders } from '../src/routes/liveReaders';
import { anOrangeComment, commentCreated, commentVerdict, delivered, postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

function setUp({ ready = true, liveReaders }: { ready?: boolean; liveReaders?: LiveReaders } = {}) {
  const store = new QueryStore();
  const lifecycle = new Lifecycle();
  if (ready) lifecycle.markReady();
  const engine = new MemoryEngine('/query');
  const receiver = new EventReceiver({ engine, handlers: queryEventHandlers(store), lifecycle, logger: silentLogger });
  return { store, lifecycle, engine, receiver, app: createApp({ engine, receiver, store, lifecycle, logger: silentLogger, liveReaders }) };
}

async function listening(app: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** A post with an approved and a rejected comment, as the bus would deliver them. */
function story() {
  const post = postCreated();
  const kind = commentCreated(post.data.id);
  const sour = commentCreated(post.data.id, { content: anOrangeComment() });
  const events = [
    post,
    kind,
    sour,
    commentVerdict('CommentModerated', kind.data, 'approved'),
    commentVerdict('CommentUpdated', kind.data, 'approved'),
    commentVerdict('CommentModerated', sour.data, 'rejected'),
    commentVerdict('CommentUpdated', sour.data, 'rejected'),
  ];
  const expected = {
    [post.data.id]: {
      id: post.data.id,
      title: post.data.title,
      comments: [
        { id: kind.data.id, content: kind.data.content, status: 'approved' },
        { id: sour.data.id, content: sour.data.content, status: 'rejected' },
      ],
    },
  };
  return { events, expected };
}

describe('GET /posts', () => {
  it('when nothing happened yet, then it answers an empty object', async () => {
    const { app } = setUp();
    await request(app).get('/posts').expect(200, {});
  });

  it('when a post and its moderated comments are delivered, then the view shows each final status', async () => {
    const { app } = setUp();
    const { events, expected } = story();

    await request(app).post('/events').send(delivered(events)).expect(200);

    expect((await request(app).get('/posts')).body).toEqual(expected);
  });

  it('when a comment is created but not yet moderated, then it shows as pending', async () => {
    const { app } = setUp();
    const post = postCreated();
    const comment = commentCreated(post.data.id);
    await request(app).post('/events').send(delivered([post, comment])).expect(200);
    expect((await request(app).get('/posts')).body[post.data.id].comments).toEqual([
      { id: comment.data.id, content: comment.data.content, status: 'pending' },
    ]);
  });

  it('when every event is delivered twice, one at a time, then the view is the same as delivered once', async () => {
    const { app } = setUp();
    const { events, expected } = story();

    for (const envelope of delivered(events)) {
      await request(app).post('/events').send(envelope).expect(200);
      await request(app).post('/events').send(envelope).expect(200);
    }
    await request(app).post('/events').send(delivered(events)).expect(200);

    expect((await request(app).get('/posts')).body).toEqual(expected);
  });

  it('when a verdict is replayed after a newer one, then the status never goes back', async () => {
    const { app } = setUp();
    const post = postCreated();
    const comment = commentCreated(post.data.id);
    const pendingAgain = commentVerdict('CommentUpdated', comment.data, 'pending');
    await request(app)
      .post('/events')
      .send(delivered([post, comment, commentVerdict('CommentUpdated', comment.data, 'approved'), pendingAgain]))
      .expect(200);
    expect((await request(app).get('/posts')).body[post.data.id].comments[0].status).toBe('approved');
  });

  it('when query restarts, then replaying the log rebuilds the same view', async () => {
    const bus = new MemoryEngine();
    const { events, expected } = story();
    for (const event of events) await bus.publish(event);
    const store = new QueryStore();
    const receiver = new EventReceiver({ engine: bus, handlers: queryEventHandlers(store), lifecycle: new Lifecycle(), logger: silentLogger, replayPage: 2 });

    await receiver.catchUp();

    expect(JSON.parse(JSON.stringify(store.toRecord()))).toEqual(expected);
    expect(receiver.position).toBe(events.length);
  });
});

describe('GET /posts/:id/comments', () => {
  it('when a post\'s comments are asked for, then all come with their statuses, or the N before one of them', async () => {
    const { app } = setUp();
    const { events, expected } = story();
    await request(app).post('/events').send(delivered(events)).expect(200);
    const [postId] = Object.keys(expected);
    const comments = expected[postId!]!.comments;

    expect((await request(app).get(`/posts/${postId}/comments`)).body).toEqual(comments);
    expect((await request(app).get(`/posts/${postId}/comments?before=${comments[1]!.id}&limit=5`)).body).toEqual([comments[0]]);
    expect((await request(app).get('/posts/nope/comments')).status).toBe(404);
    expect((await request(app).get(`/posts/${postId}/comments?before=nope`)).status).toBe(404);
  });
});

describe('GET /updates', () => {
  it('when the view changes, then each change is pushed as a server-sent event', async () => {
    const { app } = setUp();
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const controller = new AbortController();
    try {
      const stream = await fetch(`http://127.0.0.1:${port}/updates`, { signal: controller.signal });
      expect(stream.headers.get('content-type')).toBe('text/event-stream');
      const reader = stream.body!.getReader();
      const { events } = story();
      await request(app).post('/events').send(delivered(events.slice(0, 5))).expect(200);

      let text = '';
      while ((text.match(/\n\n/g) ?? []).length < 5) text += new TextDecoder().decode((await reader.read()).value);
      const messages = text.split('\n\n').filter((m) => m.startsWith('event:'));
      expect(messages.map((m) => m.split('\n')[0])).toEqual(['event: post', 'event: comment', 'event: comment', 'event: comment']);
      const last = JSON.parse(messages[3]!.split('\n')[1]!.slice('data: '.length));
      expect(last).toEqual({ kind: 'comment', postId: events[0]!.data.id, comment: expect.objectContaining({ status: 'approved' }) });
    } finally {
      controller.abort();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('GET /updates under load it must not let through', () => {
  it('when the streams allowed are all open, then one more is answered 503 with a JSON reason, and a place frees when a reader leaves', async () => {
    const { app } = setUp({ liveReaders: new LiveReaders({ maxReaders: 2, maxPerClient: 2, maxBufferedBytes: 64 * 1024 }) });
    const { server, url } = await listening(app);
    const controllers = [new AbortController(), new AbortController()];
    try {
      await Promise.all(controllers.map((controller) => fetch(`${url}/updates`, { signal: controller.signal })));

      const refused = await fetch(`${url}/updates`);
      controllers[0]!.abort();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const later = new AbortController();
      const admitted = await fetch(`${url}/updates`, { signal: later.signal });
      later.abort();

      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { error: string }).error).toMatch(/too many live readers/);
      expect(admitted.status).toBe(200);
    } finally {
      for (const controller of controllers) controller.abort();
      server.closeAllConnections();
      server.close();
    }
  });

  it('when a reader stops reading, then it is dropped once it falls too far behind, and GET /posts stays quick', async () => {
    const readers = new LiveReaders({ maxReaders: 10, maxPerClient: 10, maxBufferedBytes: 64 * 1024 });
    const { app, store } = setUp({ liveReaders: readers });
    const { server, url } = await listening(app);
    const stalled = await fetch(`${url}/updates`);
    const body = stalled.body!.getReader();
    try {
      await body.read();
      expect(readers.count).toBe(1);

      // Megabytes of changes that the reader never takes: loopback buffers fill, then its backlog grows.
      for (let index = 0; index < 40_000 && readers.count > 0; index += 1) {
        store.addPost(`p${index}`, 't'.repeat(200));
        if (index % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect(readers.count).toBe(0);
      expect((await request(app).get('/posts')).status).toBe(200);
    } finally {
      await body.cancel().catch(() => undefined);
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('GET /posts before the view has caught up', () => {
  it('when query has not yet replayed the log, then GET /posts answers 503 with Retry-After, so "empty" and "not caught up" differ', async () => {
    const { app, engine, receiver, lifecycle } = setUp({ ready: false });
    await engine.publish(postCreated());

    const early = await request(app).get('/posts');
    const earlyStream = await request(app).get('/updates');
    await receiver.catchUp();
    lifecycle.markReady();
    const later = await request(app).get('/posts');

    expect(early.status).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect(early.body).toEqual({ error: expect.stringMatching(/^query is still reading the event log/), details: [] });
    expect(earlyStream.status).toBe(503);
    expect(later.status).toBe(200);
    expect(Object.keys(later.body)).toHaveLength(1);
  });
});
