import { advance, dotsOf, launch, LEG_MS, MAX_FLIGHTS, MAX_LAUNCH_PER_BATCH } from '../src/flow/flights';
import { formatDuration, mergeEvents, routesOf, statusOf, traceOf } from '../src/flow/flowModel';
import { flowFactory } from './flowFakes';

const centres = { posts: { x: 0, y: 0 }, comments: { x: 0, y: 100 }, 'event-bus': { x: 100, y: 50 }, moderation: { x: 200, y: 0 }, query: { x: 200, y: 100 } };

describe('the log the page holds', () => {
  it('when events arrive in order, out of order or twice, then each seq is held once, in order, and the oldest drop off past the bound', () => {
    const held = mergeEvents([], [flowFactory.event(1), flowFactory.event(2)]);
    expect(mergeEvents(held, [flowFactory.event(4), flowFactory.event(3), flowFactory.event(2)]).map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(mergeEvents(held, [flowFactory.event(3)], 2).map((event) => event.seq)).toEqual([2, 3]);
  });
});

describe('where an event goes', () => {
  it('when subscribers name the types they take, then an event goes to those that take its type; an empty or absent list takes all', () => {
    const snapshot = flowFactory.snapshot({
      subscribers: [
        flowFactory.subscriber('moderation', { types: ['CommentCreated'] }),
        flowFactory.subscriber('query', { types: null }),
        flowFactory.subscriber('posts', { types: [] }),
        flowFactory.subscriber('comments', { types: ['CommentModerated'] }),
      ],
    });
    expect(routesOf('CommentCreated', snapshot).map((route) => route.service)).toEqual(['moderation', 'query', 'posts']);
    expect(routesOf('CommentModerated', snapshot).map((route) => route.service)).toEqual(['query', 'posts', 'comments']);
  });

  it('when the engine is NATS, then the read models that keep no durable consumer still receive their types, with no position to wait for', () => {
    const snapshot = flowFactory.snapshot({
      engine: 'nats',
      subscribers: [
        flowFactory.subscriber('comments', { id: 'comments', types: ['CommentModerated'] }),
        flowFactory.subscriber('moderation', { id: 'moderation', types: ['CommentCreated'] }),
      ],
      streamReaders: [
        { service: 'posts', types: ['PostCreated'] },
        { service: 'comments', types: ['PostCreated', 'CommentCreated', 'CommentModerated'] },
        { service: 'query', types: ['PostCreated', 'CommentCreated', 'CommentUpdated'] },
      ],
    });
    expect(routesOf('CommentCreated', snapshot)).toEqual([
      { service: 'moderation', subscriber: expect.objectContaining({ id: 'moderation' }) },
      { service: 'comments', subscriber: null },
      { service: 'query', subscriber: null },
    ]);
    // A service with a durable consumer for the type is reached at that consumer's position, once.
    expect(routesOf('CommentModerated', snapshot)).toEqual([{ service: 'comments', subscriber: expect.objectContaining({ id: 'comments' }) }]);
  });
});

describe('the dots', () => {
  const snapshot = flowFactory.snapshot({ subscribers: [flowFactory.subscriber('moderation', { types: ['CommentCreated'], position: 10 })] });

  it('when an event is published, then its dot reaches the bus after one leg, waits for the subscriber\'s position, then lands one leg later', () => {
    const [flight] = launch([flowFactory.event(11)], snapshot, 0, []);
    expect(dotsOf([flight!], centres, LEG_MS / 2, false).dots[0]).toMatchObject({ x: 50, y: 75 });
    let flying = advance([flight!], snapshot, LEG_MS);
    expect(dotsOf(flying, centres, LEG_MS, false).waiting).toEqual({ moderation: 1 });
    const delivered = { ...snapshot, subscribers: [flowFactory.subscriber('moderation', { types: ['CommentCreated'], position: 11 })] };
    flying = advance(flying, delivered, 2 * LEG_MS);
    expect(dotsOf(flying, centres, 2.5 * LEG_MS, false).dots[0]).toMatchObject({ x: 150, y: 25 });
    expect(advance(flying, delivered, 3 * LEG_MS + 1)).toEqual([]);
  });

  it('when a flood arrives, then a few of each batch fly (the newest), and never more than MAX_FLIGHTS at once', () => {
    const events = Array.from({ length: 100 }, (_, index) => flowFactory.event(index + 1));
    const first = launch(events, snapshot, 0, []);
    expect(first.map((flight) => flight.seq)).toEqual(events.slice(-MAX_LAUNCH_PER_BATCH).map((event) => event.seq));
    let flying = first;
    while (flying.length < MAX_FLIGHTS) flying = [...flying, ...launch(events, snapshot, 0, flying)];
    expect(flying).toHaveLength(MAX_FLIGHTS);
    expect(launch(events, snapshot, 0, flying)).toHaveLength(0);
  });
});

describe('traces and words', () => {
  it('when a request id is traced, then its events are in seq order with the time between them', () => {
    const trace = traceOf('r', [
      flowFactory.event(1, { requestid: 'r', time: '2026-01-01T00:00:00.000Z' }),
      flowFactory.event(2, { requestid: 'other' }),
      flowFactory.event(3, { requestid: 'r', type: 'CommentModerated', time: '2026-01-01T00:00:01.500Z' }),
    ]);
    expect(trace.steps.map((step) => [step.event.seq, step.sincePreviousMs])).toEqual([
      [1, null],
      [3, 1500],
    ]);
    expect(trace.totalMs).toBe(1500);
  });

  it('when a key is traced, then the write attempts with that request id or key are found, in the order they were made', () => {
    const attempt = (requestId: string | null, key: string | null, status: number) => ({ requestId, key, service: 'posts', path: '/posts', status, answer: '', at: '', ms: 1 });
    const writes = [attempt('k', 'k', 503), attempt('x', null, 201), attempt('other-id', 'k', 201)];
    expect(traceOf('k', [], writes).attempts.map((found) => found.status)).toEqual([503, 201]);
    expect(traceOf('', [], writes).attempts).toEqual([]);
  });

  it.each([
    [250, '250 ms'],
    [1_250, '1.3 s'],
    [125_000, '2 min 5 s'],
    [null, '—'],
  ])('when a duration is %p ms, then it reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('when the supervisor is backing a crashed process off, then the node says when it restarts', () => {
    const status = statusOf(undefined, flowFactory.process('moderation', { state: 'backing-off', restarts: 2, nextStartAt: new Date(5_000).toISOString() }), 1_000);
    expect(status).toEqual({ state: 'backing-off', label: 'crashed, restart in 4 s', detail: 'restarted 2 times' });
  });
});
