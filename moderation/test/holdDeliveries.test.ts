import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import request from 'supertest';
import { MemoryEngine, derivedEventId } from '@blog/contracts';
import { EventReceiver, Lifecycle } from '@blog/service-kit';
import { createApp } from '../src/app';
import { moderationEventHandlers } from '../src/domain/handleEvent';
import { holdDeliveries } from '../src/routes/holdDeliveries';
import { anOrangeComment, commentCreated, delivered } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

/** MODERATION_DELAY_MS: deliveries wait at the door; what happens after the wait is unchanged. */

function moderationApp(delayMs: number) {
  const bus = new MemoryEngine('/moderation');
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const receiver = new EventReceiver({ engine: bus, handlers: moderationEventHandlers, lifecycle, logger: silentLogger });
  return { bus, app: createApp({ engine: bus, receiver, lifecycle, logger: silentLogger, delayMs }) };
}

describe('a moderation delay, through the app', () => {
  it('when a delay is set, then a delivery is answered no sooner, with the same verdict and derived id', async () => {
    const { app, bus } = moderationApp(300);
    const comment = commentCreated('post-1', { content: anOrangeComment() });

    const sent = Date.now();
    await request(app).post('/events').send(delivered([comment])[0]).expect(200);

    expect(Date.now() - sent).toBeGreaterThanOrEqual(300);
    expect(bus.events).toMatchObject([{ type: 'CommentModerated', id: derivedEventId('CommentModerated', comment.data.id), data: { status: 'rejected' } }]);
  });

  it('when a delay is set, then the health routes answer without it', async () => {
    const { app } = moderationApp(60_000);

    await request(app).get('/readyz').expect(200);
  });
});

/** A request and response pair with only what holdDeliveries touches. */
function exchange(method: string, url: string) {
  const response = new EventEmitter();
  return { request: { method, url } as IncomingMessage, response: response as EventEmitter & ServerResponse };
}

describe('holdDeliveries', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('when the delay is 0, then the app itself is used', () => {
    const app: RequestListener = jest.fn();

    expect(holdDeliveries(app, 0)).toBe(app);
  });

  it('when a delivery arrives, then the app sees it only once the delay has passed', () => {
    const app = jest.fn();
    const held = holdDeliveries(app, 1_000, () => Date.now());
    const { request: req, response } = exchange('POST', '/events');

    held(req, response);
    jest.advanceTimersByTime(999);
    expect(app).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);

    expect(app).toHaveBeenCalledWith(req, response);
  });

  it('when other requests arrive, then they are not held', () => {
    const app = jest.fn();
    const held = holdDeliveries(app, 1_000, () => Date.now());

    for (const [method, url] of [['GET', '/events'], ['GET', '/readyz'], ['POST', '/eventsx']] as const) held(exchange(method, url).request, exchange(method, url).response);

    expect(app).toHaveBeenCalledTimes(3);
  });

  it('when the bus gives up on a held delivery and sends it again, then the retry waits only what was left', () => {
    const app = jest.fn();
    const held = holdDeliveries(app, 1_000, () => Date.now());
    const first = exchange('POST', '/events');
    held(first.request, first.response);
    jest.advanceTimersByTime(700);
    first.response.emit('close');

    const retry = exchange('POST', '/events?attempt=2');
    held(retry.request, retry.response);
    jest.advanceTimersByTime(299);
    expect(app).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);

    expect(app).toHaveBeenCalledTimes(1);
    expect(app).toHaveBeenCalledWith(retry.request, retry.response);
  });

  it('when a held delivery was answered, then the next one waits the whole delay again', () => {
    const app = jest.fn();
    const held = holdDeliveries(app, 1_000, () => Date.now());
    const first = exchange('POST', '/events');
    held(first.request, first.response);
    jest.advanceTimersByTime(1_000);
    first.response.emit('close');

    const next = exchange('POST', '/events');
    held(next.request, next.response);
    jest.advanceTimersByTime(999);

    expect(app).toHaveBeenCalledTimes(1);
  });
});
