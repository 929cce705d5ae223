import { buildEnvelope } from '@blog/contracts';
import { DeliveryHub } from '../../src/delivery/deliveryHub';
import { MemoryEventLog, MemorySubscriberState } from '../../src/store/memoryStore';
import { startSubscriber } from '../../../test/support/subscriber';
import { silentLogger } from '../../../test/support/silentLogger';
import { waitFor } from '../../../test/support/waitFor';

const delivery = { batchSize: 10, timeoutMs: 2000, retryBaseMs: 5, retryMaxMs: 20, maxAttempts: 2 };
const post = (title: string) => buildEnvelope({ type: 'PostCreated', data: { id: `p-${title}-${Math.random()}`, title } }, '/posts');
const titleOf = (event: { data: unknown }) => (event.data as { title: string }).title;

describe('DeliveryHub', () => {
  it('when started over stored positions and dead letters, then each subscriber resumes after its own, and stop saves where they got to', async () => {
    const first = await startSubscriber();
    const second = await startSubscriber();
    const log = new MemoryEventLog();
    await log.append(['a', 'b', 'c'].map(post));
    const state = new MemorySubscriberState();
    state.savePositions(new Map([[first.url, 2]]));
    state.park({ subscriber: second.url, seq: 1, id: 'x', type: 'PostCreated', attempts: 2, lastError: 'answered 500', parkedAt: 'then' });
    const hub = new DeliveryHub({ subscribers: [{ url: first.url }, { url: second.url }], log, state, delivery, logger: silentLogger });

    hub.start();
    await log.append([post('d')]);

    await waitFor('both caught up', () => hub.status().every((status) => status.position === 4));
    expect(first.received.map(titleOf)).toEqual(['c', 'd']);
    expect(second.received.map(titleOf)).toEqual(['a', 'b', 'c', 'd']);
    expect(hub.deadLetters()).toEqual([expect.objectContaining({ subscriber: second.url, seq: 1 })]);
    await hub.stop();
    expect(state.loadPositions()).toEqual(new Map([[first.url, 4], [second.url, 4]]));
    await first.close();
    await second.close();
  });

  it('when retries are asked for one subscriber, then only its parked events are delivered again', async () => {
    const picky = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const other = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const log = new MemoryEventLog();
    const hub = new DeliveryHub({ subscribers: [{ url: picky.url }, { url: other.url }], log, state: new MemorySubscriberState(), delivery, logger: silentLogger });
    hub.start();
    await log.append([post('poison')]);
    await waitFor('both parked', () => hub.deadLetters().length === 2);

    picky.stopRefusing();

    expect(hub.retryDeadLetters({ subscriber: picky.url })).toBe(1);
    expect(hub.retryDeadLetters({ subscriber: 'http://nobody/events' })).toBe(0);
    await waitFor('the retried event', () => picky.received.length === 1);
    expect(hub.deadLetters()).toEqual([expect.objectContaining({ subscriber: other.url })]);
    await hub.stop();
    await picky.close();
    await other.close();
  });
});
