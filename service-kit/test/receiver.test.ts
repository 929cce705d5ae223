import { MemoryEngine, derivedEventId, type EventHandlers, type KnownEvent } from '@blog/contracts';
import { EventReceiver, Lifecycle } from '../src';
import { commentCreated, postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

/** Applies PostCreated and CommentCreated, answers each CommentCreated with a derived CommentModerated. */
function recordingHandlers() {
  const applied: KnownEvent[] = [];
  const handlers: EventHandlers = {
    applies: ['PostCreated', 'CommentCreated'],
    apply: (event) => applied.push(event),
    reactsTo: ['CommentCreated'],
    react: (event) =>
      event.type === 'CommentCreated'
        ? [{ event: { type: 'CommentModerated', data: { ...event.data, status: 'approved' } }, id: derivedEventId('CommentModerated', event.data.id) }]
        : [],
  };
  return { applied, handlers };
}

function receiverWith(engine: MemoryEngine, handlers: EventHandlers, replayPage?: number) {
  const lifecycle = new Lifecycle();
  return { lifecycle, receiver: new EventReceiver({ engine, handlers, lifecycle, logger: silentLogger, replayPage }) };
}

describe('EventReceiver', () => {
  it('when the log is replayed, then events of the applied types are applied in order, nothing is reacted to, and the position is the last seq', async () => {
    const engine = new MemoryEngine();
    const { applied, handlers } = recordingHandlers();
    const post = postCreated();
    await engine.publish(post);
    await engine.publish(commentCreated(post.data.id));
    await engine.publish({ type: 'CommentUpdated', data: { id: 'c', postId: post.data.id, content: 'x', status: 'approved' } });
    const { receiver } = receiverWith(engine, handlers, 2);

    await receiver.catchUp();

    expect(applied.map((event) => event.type)).toEqual(['PostCreated', 'CommentCreated']);
    expect(engine.ofType('CommentModerated')).toHaveLength(0);
    expect(receiver.position).toBe(3);
  });

  it('when catching up twice, then the second reads only what came after', async () => {
    const engine = new MemoryEngine();
    const { applied, handlers } = recordingHandlers();
    await engine.publish(postCreated());
    const { receiver } = receiverWith(engine, handlers);
    await receiver.catchUp();
    await engine.publish(postCreated());

    await receiver.catchUp();

    expect(applied).toHaveLength(2);
    expect(receiver.position).toBe(2);
  });

  it('when live events are received, then each is applied and reacted to, with the request id carried on to its follow-ups', () => {
    const { applied, handlers } = recordingHandlers();
    const { receiver } = receiverWith(new MemoryEngine(), handlers);
    const comment = commentCreated('p1');

    const outgoing = receiver.receive([{ event: comment, context: { id: 'e1', seq: 7, requestId: 'req-1' } }]);

    expect(applied).toEqual([comment]);
    expect(outgoing).toEqual([
      expect.objectContaining({ id: derivedEventId('CommentModerated', comment.data.id), requestId: 'req-1', event: expect.objectContaining({ type: 'CommentModerated' }) }),
    ]);
    expect(receiver.position).toBe(7);
  });

  it('when the handlers apply nothing, then the receiver does not replay, and its types are those it reacts to', () => {
    const handlers: EventHandlers = { applies: [], reactsTo: ['CommentCreated'], react: () => [] };
    const { receiver } = receiverWith(new MemoryEngine(), handlers);

    expect(receiver.replays).toBe(false);
    expect(receiver.types).toEqual(['CommentCreated']);
  });

  it('when subscribed to a memory engine, then live events flow through the handlers and their follow-ups are stored', async () => {
    const engine = new MemoryEngine('/moderation');
    const { handlers } = recordingHandlers();
    const { lifecycle, receiver } = receiverWith(engine, handlers);
    lifecycle.markReady();
    const subscription = await engine.subscribe(receiver);

    await engine.publish(commentCreated('p1'));
    await engine.settled();

    expect(engine.ofType('CommentModerated')).toHaveLength(1);
    await subscription.stop();
  });

  it('when a reaction waits for the state and the live feed never brings it, then the receiver reads the log itself and the wait ends', async () => {
    const engine = new MemoryEngine();
    const { applied, handlers } = recordingHandlers();
    const post = postCreated();
    await engine.publish(post);
    const { seq } = await engine.publish(commentCreated(post.data.id));
    const { receiver } = receiverWith(engine, handlers);

    // Nothing is delivered live: as when the feed's NATS server has died.
    const reached = await receiver.whenAt(seq, 5_000);

    expect(reached).toBe(true);
    expect(applied.map((event) => event.type)).toEqual(['PostCreated', 'CommentCreated']);
    expect(receiver.position).toBe(seq);
  });

  it('when the state cannot reach the seq at all, then the wait answers false after its time', async () => {
    const engine = new MemoryEngine();
    const { handlers } = recordingHandlers();
    const { receiver } = receiverWith(engine, handlers);

    expect(await receiver.whenAt(7, 400)).toBe(false);
  });
});

/** A log whose reads misbehave as a slow or failing server's do: pages cut short, empty, or failing. */
class UnevenLog extends MemoryEngine {
  reads = 0;
  override async read(after: number, limit: number) {
    this.reads += 1;
    if (this.reads % 5 === 0 || this.reads % 3 === 0) throw new Error('read timed out');
    return (await super.read(after, limit)).slice(0, 1 + (this.reads % 2));
  }
}

/** A log whose last seqs hold nothing: a repair recorded them as lost, and its end stays past them. */
class LostTail extends MemoryEngine {
  override async feedPosition() {
    const { logEnd, passed } = await super.feedPosition();
    return { logEnd: logEnd + 50, passed };
  }
}

describe('EventReceiver replaying an uneven log', () => {
  it('when the seqs before the log\'s end hold no events, then the replay ends with what is stored instead of waiting for them', async () => {
    const engine = new LostTail();
    for (let index = 0; index < 10; index += 1) await engine.publish(postCreated());
    const { applied, handlers } = recordingHandlers();
    const { receiver } = receiverWith(engine, handlers, 4);

    await receiver.catchUp();

    expect(applied).toHaveLength(10);
  });

  it('when pages come back short and some reads fail, then the replay still reads to the end the log had when it began', async () => {
    const engine = new UnevenLog();
    for (let index = 0; index < 40; index += 1) await engine.publish(postCreated());
    const { applied, handlers } = recordingHandlers();
    const { receiver } = receiverWith(engine, handlers, 10);

    // As the service does at start: a replay that fails is tried again from where it got to, and the
    // first one that ends without failing is taken as caught up.
    let finished = false;
    for (let attempt = 0; !finished && attempt < 100; attempt += 1) finished = await receiver.catchUp().then(() => true, () => false);

    expect(finished).toBe(true);
    expect(receiver.position).toBe(40);
    expect(applied).toHaveLength(40);
    expect(engine.reads).toBeGreaterThan(20);
  });
});

/** A log whose reads wait until `release` is called: a replay that is still under way. */
class SlowLog extends MemoryEngine {
  release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  override async read(after: number, limit: number) {
    await this.gate;
    return super.read(after, limit);
  }
}

describe('EventReceiver catching up while a replay is under way', () => {
  it('when an event is stored after a replay began, then a catch-up asked for next still reads it', async () => {
    const engine = new SlowLog();
    await engine.publish(postCreated());
    const { applied, handlers } = recordingHandlers();
    const { receiver } = receiverWith(engine, handlers, 1);
    const first = receiver.catchUp();
    // Lets the first replay ask where the log ends (1) before the post below is stored.
    await new Promise((resolve) => setImmediate(resolve));
    const post = postCreated();
    await engine.publish(post);

    const second = receiver.catchUp();
    engine.release();
    await Promise.all([first, second]);

    expect(applied.map((event) => event.data.id)).toContain(post.data.id);
    expect(receiver.position).toBe(2);
  });
});
