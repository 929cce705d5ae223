import request from 'supertest';
import { MemoryEngine, derivedEventId } from '@blog/contracts';
import { EventReceiver, Lifecycle } from '@blog/service-kit';
import { createApp } from '../src/app';
import { moderationEventHandlers } from '../src/domain/handleEvent';
import { anOrangeComment, commentCreated, delivered, postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

/**
 * MODERATION_DELAY_MS: the receiver holds each comment before its verdict (service-kit's ReactionHold,
 * the same on either engine); what happens after the wait is unchanged.
 */

function moderationApp(delayMs: number) {
  const bus = new MemoryEngine('/moderation');
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const receiver = new EventReceiver({ engine: bus, handlers: moderationEventHandlers, lifecycle, logger: silentLogger, reactionHoldMs: delayMs });
  return { bus, app: createApp({ engine: bus, receiver, lifecycle, logger: silentLogger }) };
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

  it('when a delay is set, then the health routes and a delivery of nothing it reacts to answer without it', async () => {
    const { app } = moderationApp(60_000);

    await request(app).get('/readyz').expect(200);
    await request(app).post('/events').send(delivered([postCreated()])[0]).expect(200);
  });

  it('when a delivery is malformed, then it is refused at once, not after the delay', async () => {
    const { app } = moderationApp(60_000);

    await request(app).post('/events').send({ type: 'CommentCreated', data: {} }).expect(400);
  });
});
