import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineUnavailableError, derivedEventId, type EventHandlers, type KnownEvent } from '@blog/contracts';
import { freePort, natsCluster, waitFor, type NatsNode } from '@blog/launcher';
import { EventReceiver, Lifecycle, NatsConnector, NatsEngine, knownErrorAnswer, listDeadLetters } from '../src';
import { backoffSteps } from '../src/engines/nats/durables';
import { commentCreated, postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';

jest.setTimeout(60_000);

let dataDir: string;
let server: NatsNode;
const engines: NatsEngine[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-engine-'));
  server = (await natsCluster(1, dataDir))[0]!;
  await server.start();
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const reactions = { ackWaitMs: 500, maxDeliveries: 3, retryMaxMs: 200, inFlight: 8 };

function engineFor(source: string, servers = [server.url]): NatsEngine {
  const engine = new NatsEngine({
    servers,
    name: source,
    source,
    replicas: 1,
    dedupeWindowMs: 60_000,
    timeoutMs: 1000,
    publishWaitMs: 1000,
    reactions,
    logger: silentLogger,
  });
  engines.push(engine);
  return engine;
}

/** A replica of a service whose handlers record what they applied and reacted to; `refuse` makes react throw. */
function replica(source: string, handlers: Omit<EventHandlers, 'apply' | 'react'>, refuse: (event: KnownEvent) => boolean = () => false, holdMs?: number) {
  const applied: KnownEvent[] = [];
  const reacted: KnownEvent[] = [];
  const engine = engineFor(source, [server.url]);
  const lifecycle = new Lifecycle();
  const receiver = new EventReceiver({
    engine,
    lifecycle,
    logger: silentLogger,
    reactionHoldMs: holdMs,
    handlers: {
      ...handlers,
      apply: (event) => applied.push(event),
      react: (event) => {
        if (refuse(event)) throw new Error('this event cannot be handled');
        reacted.push(event);
        if (event.type !== 'CommentCreated') return [];
        return [{ event: { type: 'CommentModerated', data: { ...event.data, status: 'approved' } }, id: derivedEventId('CommentModerated', event.data.id) }];
      },
    },
  });
  return { engine, receiver, lifecycle, applied, reacted };
}

async function started(service: ReturnType<typeof replica>) {
  await service.receiver.catchUp();
  service.lifecycle.markReady();
  const subscription = await service.engine.subscribe(service.receiver);
  return { ...service, subscription };
}

describe('the NATS JetStream engine', () => {
  it('when the same event id is published twice, then it is stored once and both get its position', async () => {
    const engine = engineFor('/dedupe');
    const event = postCreated();

    const first = await engine.publish(event, { id: 'same-event-id' });
    const second = await engine.publish(event, { id: 'same-event-id' });

    expect(second).toEqual({ ...first, duplicate: true });
    expect(first.duplicate).toBe(false);
    const stored = await engine.read(first.seq - 1, 10);
    expect(stored.filter((entry) => entry.id === 'same-event-id')).toHaveLength(1);
  });

  it('when the log is read after a position, then it answers the events after it in order, and nothing at the end', async () => {
    const engine = engineFor('/reader');
    const receipts = [];
    for (let i = 0; i < 5; i += 1) receipts.push(await engine.publish(postCreated()));
    const start = receipts[0]!.seq;

    const page = await engine.read(start, 3);
    const atTheEnd = await engine.read(receipts[4]!.seq, 100);

    expect(page.map((entry) => entry.seq)).toEqual([start + 1, start + 2, start + 3]);
    expect(page[0]).toMatchObject({ id: receipts[1]!.id, type: 'PostCreated' });
    expect(atTheEnd).toEqual([]);
  });

  it('when two replicas run, then both apply every event and only one reacts to each, storing one verdict', async () => {
    const types = { applies: ['PostCreated', 'CommentCreated'] as const, reactsTo: ['CommentCreated'] as const };
    const one = await started(replica('/pair', { applies: [...types.applies], reactsTo: [...types.reactsTo] }));
    const two = await started(replica('/pair', { applies: [...types.applies], reactsTo: [...types.reactsTo] }));
    const post = postCreated();
    const publisher = engineFor('/writer');
    await publisher.publish(post);
    const comments = Array.from({ length: 20 }, () => commentCreated(post.data.id));
    await Promise.all(comments.map((comment) => publisher.publish(comment)));

    await waitFor('both replicas to apply all 21 events', async () => one.applied.length >= 21 && two.applied.length >= 21, { timeoutMs: 10_000 });
    await waitFor('20 reactions', async () => one.reacted.length + two.reacted.length >= 20, { timeoutMs: 10_000 });
    const ids = comments.map((comment) => comment.data.id);
    const verdicts = async () => (await publisher.read(0, 10_000)).filter((entry) => entry.type === 'CommentModerated' && ids.includes((entry.data as { id: string }).id));
    await waitFor('20 verdicts', async () => (await verdicts()).length >= 20, { timeoutMs: 10_000 });

    for (const service of [one, two]) expect(service.applied.filter((event) => event.type === 'CommentCreated').map((event) => event.data.id).sort()).toEqual([...ids].sort());
    expect([...one.reacted, ...two.reacted].map((event) => (event as { data: { id: string } }).data.id).sort()).toEqual([...ids].sort());
    expect((await verdicts()).length).toBe(20);
    await Promise.all([one.subscription.stop(), two.subscription.stop()]);
  });

  it('when reactions are held longer than the ack wait (a slowed moderation), then each event is reacted to once, after the hold', async () => {
    const held = await started(replica('/slowed', { applies: [], reactsTo: ['CommentCreated'] }, () => false, 3 * reactions.ackWaitMs));
    const post = postCreated();
    const comment = commentCreated(post.data.id);
    const publisher = engineFor('/writer');
    const sentAt = Date.now();

    await publisher.publish(comment);
    // A new durable consumer starts at the beginning of the stream: only this test's comment counts.
    const reactionsTo = () => held.reacted.filter((event) => (event as { data: { id: string } }).data.id === comment.data.id);
    await waitFor('the held reaction', async () => reactionsTo().length >= 1, { timeoutMs: 15_000 });
    const reactedAfter = Date.now() - sentAt;
    // Long enough for the server to have handed it over again, had the replica not said it was still working.
    await new Promise((resolve) => setTimeout(resolve, 3 * reactions.ackWaitMs));

    expect(reactedAfter).toBeGreaterThanOrEqual(3 * reactions.ackWaitMs);
    expect(reactionsTo()).toHaveLength(1);
    await held.subscription.stop();
  });

  it('when a handler keeps failing on one event, then it is parked after the last delivery and the others still flow', async () => {
    const poison = commentCreated('poison-post');
    const service = await started(replica('/picky', { applies: [], reactsTo: ['CommentCreated'] }, (event) => event.type === 'CommentCreated' && event.data.id === poison.data.id));
    const publisher = engineFor('/writer');
    const fine = commentCreated('poison-post');

    await publisher.publish(poison);
    await publisher.publish(fine);

    await waitFor('the other comment to be handled', async () => service.reacted.some((event) => event.type === 'CommentCreated' && event.data.id === fine.data.id), { timeoutMs: 10_000 });
    const connector = new NatsConnector({ servers: [server.url], name: 'test', replicas: 1, dedupeWindowMs: 60_000, timeoutMs: 1000 });
    const parked = await waitFor(
      'the poison event to be parked',
      async () => (await listDeadLetters(await connector.connected(), 1000)).find((letter) => letter.subscriber === 'picky'),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(parked).toMatchObject({ type: 'CommentCreated', attempts: reactions.maxDeliveries, lastError: 'this event cannot be handled' });
    expect(parked.event).toMatchObject({ data: { id: poison.data.id } });
    await connector.close();
    await service.subscription.stop();
  });

  it('when no NATS server answers, then publishing fails with a 503 that says nothing was stored', async () => {
    const engine = engineFor('/nowhere', [`nats://127.0.0.1:${await freePort()}`]);

    const failure = engine.publish(postCreated());

    await expect(failure).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(knownErrorAnswer(await failure.catch((error: unknown) => error))).toMatchObject({ status: 503, body: { error: expect.stringMatching(/nothing was stored/) } });
  });

  it('when redeliveries back off, then the waits double from the ack wait, up to the cap, one fewer than the deliveries', () => {
    expect(backoffSteps({ ackWaitMs: 100, maxDeliveries: 5, retryMaxMs: 500, inFlight: 1 })).toEqual([100, 200, 400, 500]);
    expect(backoffSteps({ ackWaitMs: 100, maxDeliveries: 1, retryMaxMs: 500, inFlight: 1 })).toEqual([]);
  });
});
