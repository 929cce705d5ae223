import { HttpTransport } from '@blog/service-kit';
import { buildEnvelope } from '@blog/contracts';
import { SubscriberDelivery, type DeliveryOptions } from '../../src/delivery/subscriberDelivery';
import { MemoryEventLog, MemorySubscriberState } from '../../src/store/memoryStore';
import type { DeadLetter } from '../../src/store/subscriberState';
import { deadSubscriberUrl, startSubscriber } from '../../../test/support/subscriber';
import { silentLogger } from '../../../test/support/silentLogger';
import { waitFor } from '../../../test/support/waitFor';
import { recordingObserver } from './recordingObserver';

const http = new HttpTransport(2000);
const running: SubscriberDelivery[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((delivery) => delivery.stop()));
});
afterAll(() => http.close());

const defaults: DeliveryOptions = { batchSize: 10, timeoutMs: 2000, retryBaseMs: 5, retryMaxMs: 20, maxAttempts: 3 };

function startDelivery(url: string, { log = new MemoryEventLog(), position = 0, parked = [] as DeadLetter[], delivery = {} as Partial<DeliveryOptions> } = {}) {
  const state = new MemorySubscriberState();
  const saved: number[] = [];
  const observer = recordingObserver();
  const loop = new SubscriberDelivery({
    url,
    position,
    log,
    state,
    http,
    delivery: { ...defaults, ...delivery },
    logger: silentLogger,
    parked,
    observer,
    onDelivered: (_url, seq) => saved.push(seq),
  });
  log.onAppend(() => loop.notify());
  loop.start();
  running.push(loop);
  return { loop, log, state, saved, observer };
}

const titled = (title: string) => buildEnvelope({ type: 'PostCreated', data: { id: `p-${title}-${Math.random()}`, title } }, '/posts');
const titleOf = (event: { data: unknown }) => (event.data as { title: string }).title;

/** A log whose reads fail `failures` times (as a damaged page or an I/O error makes them), then succeed. */
class FailingReadsLog extends MemoryEventLog {
  reads = 0;
  constructor(private failures: number) {
    super();
  }
  override readAfter(after: number, limit: number) {
    this.reads += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }));
    }
    return super.readAfter(after, limit);
  }
}

describe('SubscriberDelivery', () => {
  it('when reading the log fails, then the loop reports it, waits and reads again instead of ending (no unhandled rejection)', async () => {
    const subscriber = await startSubscriber();
    const log = new FailingReadsLog(3);
    await log.append(['a', 'b'].map(titled));
    const { loop } = startDelivery(subscriber.url, { log });

    await waitFor('both events after the failed reads', () => subscriber.received.length === 2);
    expect(log.reads).toBeGreaterThanOrEqual(4);
    expect(subscriber.received.map(titleOf)).toEqual(['a', 'b']);
    // The position moves once the subscriber's answer is back, a moment after it received the events.
    await waitFor('the position past both', () => loop.status().position === 2);
    await subscriber.close();
  });

  it('when events are stored, then the subscriber gets every one in order, in batches, and each position is reported', async () => {
    const subscriber = await startSubscriber();
    const { log, loop, saved, observer } = startDelivery(subscriber.url, { delivery: { batchSize: 4 } });

    await log.append(['a', 'b', 'c', 'd', 'e', 'f'].map(titled));

    await waitFor('six events, answered', () => subscriber.received.length === 6 && loop.status().position === 6);
    expect(subscriber.received.map(titleOf)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(subscriber.deliveries).toBe(2);
    expect(saved).toEqual([4, 6]);
    expect(loop.status()).toMatchObject({ position: 6, lag: 0, deliveries: 2, eventsDelivered: 6, consecutiveFailures: 0 });
    expect(observer.calls).toEqual([`delivered ${subscriber.url} 4`, `delivered ${subscriber.url} 2`]);
    await subscriber.close();
  });

  it('when it starts from a stored position, then it delivers only what comes after it', async () => {
    const subscriber = await startSubscriber();
    const log = new MemoryEventLog();
    await log.append(['old', 'older', 'new'].map(titled));

    startDelivery(subscriber.url, { log, position: 2 });

    await waitFor('the new event', () => subscriber.received.length === 1);
    expect(subscriber.received.map((event) => event.seq)).toEqual([3]);
    await subscriber.close();
  });

  it('when the subscriber declares its types, then only those are sent and its position still passes the others', async () => {
    const subscriber = await startSubscriber({ types: ['CommentCreated'] });
    const { log, loop } = startDelivery(subscriber.url);

    await log.append([titled('post'), buildEnvelope({ type: 'CommentCreated', data: { id: 'c', postId: 'p', content: 'x', status: 'pending' } }, '/comments')]);

    await waitFor('the position past both', () => loop.status().position === 2);
    expect(subscriber.received.map((event) => event.type)).toEqual(['CommentCreated']);
    expect(loop.status().types).toEqual(['CommentCreated']);
    await subscriber.close();
  });

  it('when one event is always refused, then it is isolated, parked after maxAttempts, and the rest still flows', async () => {
    const subscriber = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const { log, loop, state, observer } = startDelivery(subscriber.url);

    await log.append(['a', 'poison', 'b'].map(titled));

    // The subscriber holds 'b' before its answer is back at the loop: the position moves on the answer.
    await waitFor('the two good events, answered', () => subscriber.received.length === 2 && loop.status().position === 3);
    expect(subscriber.received.map(titleOf)).toEqual(['a', 'b']);
    expect(loop.deadLetters()).toEqual([expect.objectContaining({ seq: 2, attempts: 3, lastError: 'answered 500' })]);
    expect(state.loadDeadLetters()).toEqual(loop.deadLetters());
    expect(loop.status()).toMatchObject({ position: 3, deadLettered: 1 });
    expect(observer.calls).toContain(`parked ${subscriber.url}`);
    await subscriber.close();
  });

  it('when a parked event is retried once the cause is fixed, then it is delivered alone and leaves the list', async () => {
    const subscriber = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const { log, loop } = startDelivery(subscriber.url);
    await log.append(['poison', 'after'].map(titled));
    await waitFor('the event parked', () => loop.deadLetters().length === 1);

    subscriber.stopRefusing();

    expect(loop.retry()).toBe(1);
    await waitFor('the retried event, answered', () => subscriber.received.some((event) => titleOf(event) === 'poison') && loop.deadLetters().length === 0);
    expect(loop.deadLetters()).toEqual([]);
    expect(loop.status().position).toBe(2);
    await subscriber.close();
  });

  it('when a retried event is still refused, then it is parked again after maxAttempts', async () => {
    const subscriber = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const parked: DeadLetter = { subscriber: subscriber.url, seq: 1, id: 'x', type: 'PostCreated', attempts: 3, lastError: 'answered 500', parkedAt: 'then' };
    const log = new MemoryEventLog();
    await log.append([titled('poison')]);
    const { loop } = startDelivery(subscriber.url, { log, position: 1, parked: [parked] });

    loop.retry(1);

    await waitFor('parked again', () => loop.deadLetters().length === 1 && subscriber.deliveries === 3);
    expect(loop.deadLetters()[0]).toMatchObject({ seq: 1, attempts: 3 });
    await subscriber.close();
  });

  it('when the subscriber is down, then it backs off and keeps its position, and delivers once it is back', async () => {
    const flaky = await startSubscriber({ failures: 3, failStatus: 503 });
    const { log, loop, observer } = startDelivery(flaky.url);

    await log.append([titled('x')]);

    await waitFor('the event, answered', () => flaky.received.length === 1 && loop.status().position === 1);
    expect(flaky.deliveries).toBe(4);
    expect(loop.status()).toMatchObject({ position: 1, failures: 3, consecutiveFailures: 0, lastError: 'answered 503', deadLettered: 0 });
    expect(observer.calls.filter((call) => call.startsWith('retried'))).toHaveLength(3);
    await flaky.close();
  });

  it('when stopped during a long backoff, then it stops at once', async () => {
    const { log, loop } = startDelivery(await deadSubscriberUrl(), { delivery: { retryBaseMs: 30_000, retryMaxMs: 30_000 } });
    await log.append([titled('x')]);
    await waitFor('a failure', () => loop.status().consecutiveFailures > 0);

    const started = Date.now();
    await loop.stop();

    expect(Date.now() - started).toBeLessThan(1000);
    expect(loop.status()).toMatchObject({ position: 0, lag: 1, lastError: 'ECONNREFUSED' });
  });

  it('when the answer carries follow-ups, then they are stored in the log it delivers from, and delivered in turn', async () => {
    const reacting = await startSubscriber({
      answer: (batch) => ({ publish: batch.filter((event) => event.type === 'PostCreated').map((event) => ({ type: 'PostNoticed', id: `noticed-${event.id}`, source: '/reacting', data: {} })) }),
    });
    const { log } = startDelivery(reacting.url);

    await log.append([titled('x')]);

    await waitFor('the follow-up delivered too', () => reacting.received.length === 2);
    expect(reacting.received.map((event) => [event.seq, event.type])).toEqual([[1, 'PostCreated'], [2, 'PostNoticed']]);
    await reacting.close();
  });
});
