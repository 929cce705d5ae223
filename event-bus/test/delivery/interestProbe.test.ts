import { HttpTransport } from '@blog/service-kit';
import { InterestProbe } from '../../src/delivery/batchSender';
import { deadSubscriberUrl } from '../../../test/support/subscriber';
import { startRawSubscriber } from './rawSubscriber';

const http = new HttpTransport(2000);
afterAll(() => http.close());

const rows = ['PostCreated', 'CommentCreated', 'PostLiked'].map((type, i) => ({ seq: i + 1, type, body: '{}' }));

describe('InterestProbe', () => {
  it('when the subscriber answers GET with {types}, then only those types are picked', async () => {
    const subscriber = await startRawSubscriber(() => ({ status: 200, body: JSON.stringify({ types: ['CommentCreated'] }) }));
    const probe = new InterestProbe({ url: subscriber.url, http });
    expect(probe.needsAsking).toBe(true);

    await probe.ask();

    expect(probe.needsAsking).toBe(false);
    expect(probe.types).toEqual(['CommentCreated']);
    expect(probe.pick(rows).map((row) => row.seq)).toEqual([2]);
    expect(subscriber.requests.map((request) => request.method)).toEqual(['GET']);
    await subscriber.close();
  });

  it.each([
    ['answers 404, as a course-style service does', 404, '{"error":"no route"}'],
    ['answers 200 but not with {types}', 200, '{"ok":true}'],
    ['answers 200 with text that is not JSON', 200, 'hello'],
  ])('when the subscriber %s, then it gets every event', async (_name, status, body) => {
    const subscriber = await startRawSubscriber(() => ({ status, body }));
    const probe = new InterestProbe({ url: subscriber.url, http });

    await probe.ask();

    expect(probe.types).toBeNull();
    expect(probe.pick(rows)).toEqual(rows);
    await subscriber.close();
  });

  it('when the subscriber cannot be reached, then asking throws and what it said before still holds', async () => {
    const subscriber = await startRawSubscriber(() => ({ status: 200, body: JSON.stringify({ types: ['PostCreated'] }) }));
    const probe = new InterestProbe({ url: subscriber.url, http });
    await probe.ask();
    const gone = new InterestProbe({ url: await deadSubscriberUrl(), http });

    probe.forget();

    expect(probe.needsAsking).toBe(true);
    expect(probe.types).toEqual(['PostCreated']);
    await expect(gone.ask()).rejects.toThrow();
    expect(gone.needsAsking).toBe(true);
    await subscriber.close();
  });
});
