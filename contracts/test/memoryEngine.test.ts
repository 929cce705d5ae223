import { EVENT_TYPES, EngineUnavailableError, MemoryEngine, MemoryLog, applyDelivered, derivedEventId, reactToDelivered, knownEventSchema, type EventConsumer, type EventHandlers } from '../src';
import { commentCreated, postCreated } from '../../test/support/factories';

/** A consumer that counts what it was handed and, for CommentCreated, answers a derived verdict. */
function recordingConsumer(types: EventConsumer['types'], ready = () => true) {
  const handed: string[] = [];
  const handlers: EventHandlers = {
    applies: types,
    apply: (event) => handed.push(event.type),
    reactsTo: ['CommentCreated'],
    react: (event) =>
      event.type === 'CommentCreated'
        ? [{ event: { type: 'CommentModerated', data: { ...event.data, status: 'approved' } }, id: derivedEventId('CommentModerated', event.data.id) }]
        : [],
  };
  let position = 0;
  const consumer: EventConsumer = {
    types,
    handlers,
    get ready() {
      return ready();
    },
    get position() {
      return position;
    },
    receive: (events) =>
      events.flatMap((delivered) => {
        applyDelivered(handlers, delivered);
        return reactToDelivered(handlers, delivered);
      }),
    apply: (delivered) => applyDelivered(handlers, delivered),
    passed: (seq) => {
      position = Math.max(position, seq);
    },
    react: (delivered) => reactToDelivered(handlers, delivered),
    heldBack: () => undefined,
    whenAt: async (seq) => position >= seq,
  };
  return { consumer, handed };
}

describe('the event types', () => {
  it('when the list is read, then it is exactly the types of the schema union', () => {
    expect(EVENT_TYPES).toEqual(knownEventSchema.options.map((schema) => schema.shape.type.value));
    expect(EVENT_TYPES).toEqual(['PostCreated', 'CommentCreated', 'CommentModerated', 'CommentUpdated']);
  });
});

describe('MemoryEngine', () => {
  it('when events are published, then they are stored in order with consecutive positions and read back after a position', async () => {
    const engine = new MemoryEngine('/posts');
    const receipts = [await engine.publish(postCreated()), await engine.publish(postCreated()), await engine.publish(postCreated())];

    expect(receipts.map((receipt) => receipt.seq)).toEqual([1, 2, 3]);
    expect((await engine.read(1, 10)).map((event) => event.seq)).toEqual([2, 3]);
    expect((await engine.read(0, 2)).map((event) => event.seq)).toEqual([1, 2]);
    expect(engine.events[0]).toMatchObject({ specversion: '1.0', source: '/posts', type: 'PostCreated' });
  });

  it('when the same id is published twice by one source, then it is stored once and the second receipt says it is a duplicate at the first one\'s position', async () => {
    const engine = new MemoryEngine('/posts');
    const first = await engine.publish(postCreated(), { id: 'same' });
    const second = await engine.publish(postCreated(), { id: 'same' });

    expect(first).toEqual({ id: 'same', seq: 1 });
    expect(second).toEqual({ ...first, duplicate: true });
    expect(engine.events).toHaveLength(1);
  });

  it('when two sources use the same id, then both events are stored', async () => {
    const log = new MemoryLog();
    await new MemoryEngine('/posts', { log }).publish(postCreated(), { id: 'same' });
    await new MemoryEngine('/comments', { log }).publish(postCreated(), { id: 'same' });

    expect(log.events).toHaveLength(2);
  });

  it('when the engine is unreachable, then publishing and reading fail with EngineUnavailableError and nothing is stored', async () => {
    const engine = new MemoryEngine();
    engine.reachable = false;

    await expect(engine.publish(postCreated())).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(engine.read(0, 10)).rejects.toBeInstanceOf(EngineUnavailableError);
    engine.reachable = true;
    expect(engine.events).toHaveLength(0);
  });

  it('when a consumer subscribes, then it is handed the events of its types in order and its follow-ups are stored once', async () => {
    const log = new MemoryLog();
    const comments = new MemoryEngine('/comments', { log });
    const moderation = new MemoryEngine('/moderation', { log });
    const { consumer, handed } = recordingConsumer(['PostCreated', 'CommentCreated']);
    await comments.publish(postCreated());
    await comments.publish(commentCreated('p1'));

    const subscription = await moderation.subscribe(consumer);
    await comments.publish(commentCreated('p1'));
    await moderation.settled();

    expect(handed).toEqual(['PostCreated', 'CommentCreated', 'CommentCreated']);
    expect(log.ofType('CommentModerated')).toHaveLength(2);
    expect(log.ofType('CommentModerated')[0]).toMatchObject({ source: '/moderation', data: { status: 'approved' } });
    await subscription.stop();
  });

  it('when each event is handed over twice, then the derived follow-up ids keep one verdict per comment', async () => {
    const engine = new MemoryEngine('/moderation', { deliveries: 2 });
    const { consumer, handed } = recordingConsumer(['CommentCreated']);
    await engine.subscribe(consumer);

    await engine.publish(commentCreated('p1'));
    await engine.settled();

    expect(handed).toEqual(['CommentCreated', 'CommentCreated']);
    expect(engine.ofType('CommentModerated')).toHaveLength(1);
    await engine.close();
  });

  it('when the consumer is not ready, then nothing is handed over until it is', async () => {
    let ready = false;
    const engine = new MemoryEngine('/query');
    const { consumer, handed } = recordingConsumer(['PostCreated'], () => ready);
    await engine.subscribe(consumer);
    await engine.publish(postCreated());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handed).toEqual([]);

    ready = true;
    await engine.settled();

    expect(handed).toEqual(['PostCreated']);
    await engine.close();
  });
});
