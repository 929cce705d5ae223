import { HttpTransport } from '@blog/service-kit';
import { BatchSender, FollowUps } from '../../src/delivery/batchSender';
import { MemoryEventLog } from '../../src/store/memoryStore';
import { deadSubscriberUrl } from '../../../test/support/subscriber';
import { silentLogger } from '../../../test/support/silentLogger';
import { startRawSubscriber } from './rawSubscriber';

const http = new HttpTransport(2000);
afterAll(() => http.close());

const row = (seq: number) => ({ seq, type: 'PostCreated', body: `{"id":"e${seq}","seq":${seq}}` });

function senderFor(url: string, { bareSingleEvent = false, signal = new AbortController().signal, log = new MemoryEventLog() } = {}) {
  return new BatchSender({ url, http, bareSingleEvent, followUps: new FollowUps({ log, logger: silentLogger }), signal });
}

describe('BatchSender', () => {
  it('when the subscriber answers 2xx, then the batch is delivered as a JSON array of the stored bodies', async () => {
    const subscriber = await startRawSubscriber(() => ({ status: 204, body: '' }));

    const outcome = await senderFor(subscriber.url).send([row(1), row(2)]);

    expect(outcome).toEqual({ kind: 'delivered' });
    expect(subscriber.requests).toEqual([expect.objectContaining({ method: 'POST', body: '[{"id":"e1","seq":1},{"id":"e2","seq":2}]' })]);
    expect(subscriber.requests[0]!.headers['content-type']).toBe('application/json');
    await subscriber.close();
  });

  it('when single events go bare, then one event is sent as the object itself, as course-style subscribers expect', async () => {
    const subscriber = await startRawSubscriber();

    await senderFor(subscriber.url, { bareSingleEvent: true }).send([row(3)]);

    expect(subscriber.requests[0]!.body).toBe('{"id":"e3","seq":3}');
    await subscriber.close();
  });

  it.each([400, 413, 422, 500])('when the subscriber answers %i, then the events were refused', async (status) => {
    const subscriber = await startRawSubscriber(() => ({ status }));

    expect(await senderFor(subscriber.url).send([row(1)])).toEqual({ kind: 'refused', reason: `answered ${status}` });
    await subscriber.close();
  });

  it.each([401, 403, 404, 405, 408, 429, 502, 503, 504])('when the subscriber answers %i, then that is about the subscriber, not the event', async (status) => {
    const subscriber = await startRawSubscriber(() => ({ status }));

    expect(await senderFor(subscriber.url).send([row(1)])).toEqual({ kind: 'unreachable', reason: `answered ${status}` });
    await subscriber.close();
  });

  it('when nothing listens, or the send is aborted, then the subscriber is unreachable', async () => {
    const subscriber = await startRawSubscriber();
    const stopping = new AbortController();
    stopping.abort();

    expect(await senderFor(await deadSubscriberUrl()).send([row(1)])).toEqual({ kind: 'unreachable', reason: 'ECONNREFUSED' });
    expect(await senderFor(subscriber.url, { signal: stopping.signal }).send([row(1)])).toEqual({ kind: 'unreachable', reason: 'aborted' });
    await subscriber.close();
  });

  it('when the 2xx answer carries follow-ups, then they are stored before the batch counts as delivered', async () => {
    const subscriber = await startRawSubscriber(() => ({ status: 200, body: JSON.stringify({ publish: [{ type: 'Noticed', id: 'n1', source: '/s', data: {} }] }) }));
    const log = new MemoryEventLog();

    expect(await senderFor(subscriber.url, { log }).send([row(1)])).toEqual({ kind: 'delivered' });

    expect(log.lastSeq).toBe(1);
    await subscriber.close();
  });
});
