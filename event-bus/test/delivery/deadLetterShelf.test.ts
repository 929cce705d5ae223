import { DeadLetterShelf } from '../../src/delivery/deliveryStats';
import { MemorySubscriberState } from '../../src/store/memoryStore';
import type { DeadLetter } from '../../src/store/subscriberState';
import { recordingLogger } from './recordingLogger';
import { recordingObserver } from './recordingObserver';

const url = 'http://sub/events';
const row = (seq: number) => ({ seq, type: 'PostCreated', body: JSON.stringify({ id: `evt-${seq}`, type: 'PostCreated', seq }) });
const parkedEarlier = (seq: number): DeadLetter => ({
  subscriber: url,
  seq,
  id: `evt-${seq}`,
  type: 'PostCreated',
  attempts: 3,
  lastError: 'answered 500',
  parkedAt: '2026-01-01T00:00:00.000Z',
});

describe('DeadLetterShelf', () => {
  it('when an event is parked, then it is listed, stored, counted and logged with how to retry it', () => {
    const state = new MemorySubscriberState();
    const { logger, lines } = recordingLogger();
    const observer = recordingObserver();
    const shelf = new DeadLetterShelf({ subscriber: url, state, logger, observer });

    shelf.park(row(4), 3, 'answered 422');

    const expected = { subscriber: url, seq: 4, id: 'evt-4', type: 'PostCreated', attempts: 3, lastError: 'answered 422', parkedAt: expect.any(String) };
    expect(shelf.list()).toEqual([expected]);
    expect(state.loadDeadLetters()).toEqual([expected]);
    expect(shelf.size).toBe(1);
    expect(observer.calls).toEqual([`parked ${url}`]);
    expect(lines).toEqual([expect.objectContaining({ level: 50, seq: 4, attempts: 3, msg: expect.stringMatching(/POST \/dead-letters\/retry/) })]);
  });

  it('when a parked event has a body that is not JSON, then it is parked with an empty id', () => {
    const shelf = new DeadLetterShelf({ subscriber: url, state: new MemorySubscriberState(), logger: recordingLogger().logger });

    shelf.park({ seq: 1, type: 'Odd', body: 'not json' }, 1, 'answered 400');

    expect(shelf.list()[0]).toMatchObject({ seq: 1, id: '' });
  });

  it('when retries are asked for all, then every parked event leaves the shelf, is unstored, and is queued oldest request first', () => {
    const state = new MemorySubscriberState();
    for (const seq of [2, 5]) state.park(parkedEarlier(seq));
    const shelf = new DeadLetterShelf({ subscriber: url, state, logger: recordingLogger().logger, parked: state.loadDeadLetters() });

    expect(shelf.takeForRetry()).toBe(2);

    expect(shelf.list()).toEqual([]);
    expect(state.loadDeadLetters()).toEqual([]);
    expect(shelf.nextRetry()).toBe(2);
    shelf.retryDone();
    expect(shelf.nextRetry()).toBe(5);
    shelf.retryDone();
    expect(shelf.nextRetry()).toBeUndefined();
  });

  it('when a retry names one seq, then only that one is taken, and a seq not parked takes nothing', () => {
    const shelf = new DeadLetterShelf({ subscriber: url, state: new MemorySubscriberState(), logger: recordingLogger().logger, parked: [parkedEarlier(2), parkedEarlier(5)] });

    expect(shelf.takeForRetry(5)).toBe(1);
    expect(shelf.takeForRetry(7)).toBe(0);

    expect(shelf.list().map((letter) => letter.seq)).toEqual([2]);
    expect(shelf.nextRetry()).toBe(5);
  });
});
