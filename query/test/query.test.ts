import http from 'node:http';
import request from 'supertest';
import { MemoryEngine } from '@blog/contracts';
import { Lifecycle, EventReceiver } from '@blog/service-kit';
import { createApp } from '../src/app';
import { queryEventHandlers } from '../src/domain/applyEvent';
import { QueryStore } from '../src/store/queryStore';
import { anOrangeComment, commentCreated, commentVerdict, delivered, postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

function setUp() {
  const store = new QueryStore();
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const engine = new MemoryEngine('/query');
  const receiver = new EventReceiver({ engine, handlers: queryEventHandlers(store), lifecycle, logger: silentLogger });
  return { store, app: createApp({ engine, receiver, store, lifecycle, logger: silentLogger }) };
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
