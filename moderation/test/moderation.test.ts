import request from 'supertest';
import { MemoryEngine, derivedEventId } from '@blog/contracts';
import { EventReceiver, Lifecycle } from '@blog/service-kit';
import { createApp } from '../src/app';
import { moderationEventHandlers, moderate } from '../src/domain/handleEvent';
import { anOrangeComment, commentCreated, delivered, postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

describe('moderate', () => {
  it.each([
    ['a kind word', 'approved'],
    ['orange', 'rejected'],
    ['I like ORANGES', 'rejected'],
    ['OrAnGe juice', 'rejected'],
    ['oranje is Dutch', 'approved'],
    ['', 'approved'],
  ])('when the content is %p, then the verdict is %s', (content, verdict) => {
    expect(moderate(content)).toBe(verdict);
  });
});

function setUp() {
  const bus = new MemoryEngine('/moderation');
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const receiver = new EventReceiver({ engine: bus, handlers: moderationEventHandlers, lifecycle, logger: silentLogger });
  return { bus, app: createApp({ engine: bus, receiver, lifecycle, logger: silentLogger }) };
}

describe('POST /events', () => {
  it('when CommentCreated arrives, then CommentModerated with the verdict and a derived id is published', async () => {
    const { app, bus } = setUp();
    const comment = commentCreated('post-1', { content: anOrangeComment() });

    await request(app).post('/events').send(delivered([comment])[0]).expect(200);

    expect(bus.events).toMatchObject([
      {
        type: 'CommentModerated',
        id: derivedEventId('CommentModerated', comment.data.id),
        data: { ...comment.data, status: 'rejected' },
      },
    ]);
  });

  it('when the bus asks for follow-ups in the answer, then the verdicts of a batch are answered in order and nothing is published', async () => {
    const { app, bus } = setUp();
    const kind = commentCreated('post-1');
    const orange = commentCreated('post-1', { content: anOrangeComment() });

    const response = await request(app)
      .post('/events')
      .set('x-follow-ups', 'in-answer')
      .send(delivered([kind, postCreated(), orange]))
      .expect(200);

    expect(response.body).toMatchObject({ received: 3, handled: 3, ignored: 0 });
    expect(response.body.publish).toMatchObject([
      { type: 'CommentModerated', source: '/moderation', id: derivedEventId('CommentModerated', kind.data.id), data: { status: 'approved' } },
      { type: 'CommentModerated', source: '/moderation', id: derivedEventId('CommentModerated', orange.data.id), data: { status: 'rejected' } },
    ]);
    expect(bus.events).toHaveLength(0);
  });

  it('when the same CommentCreated is delivered three times, then only one verdict is stored', async () => {
    const { app, bus } = setUp();
    const [envelope] = delivered([commentCreated('post-1')]);

    for (let i = 0; i < 3; i += 1) await request(app).post('/events').send(envelope).expect(200);

    expect(bus.ofType('CommentModerated')).toHaveLength(1);
    expect(bus.events[0]!.data).toMatchObject({ status: 'approved' });
  });

  it('when other events arrive, then nothing is published', async () => {
    const { app, bus } = setUp();
    await request(app).post('/events').send(delivered([postCreated()])).expect(200);
    await request(app).post('/events').send({ type: 'SomethingNew', data: {} }).expect(200);
    expect(bus.events).toHaveLength(0);
  });

  it('when the bus cannot take the verdict, then the delivery fails with 503 so it is retried', async () => {
    const { app, bus } = setUp();
    bus.reachable = false;
    const response = await request(app).post('/events').send(delivered([commentCreated('post-1')])[0]);
    expect(response.status).toBe(503);
    expect(response.body.error).toMatch(/bus/);
  });

  it('when the body is not JSON, then it answers 400', async () => {
    const { app } = setUp();
    const response = await request(app).post('/events').set('Content-Type', 'application/json').send('{nope');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'malformed JSON body', details: [] });
  });
});
