import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { buildEnvelope, derivedEventId, sourceOf } from '@blog/contracts';
import { SKIPPED_REACTION_WARNING, natsNames } from '@blog/service-kit';
import { LocalSystem, type ServiceName } from './support/localSystem';
import { commentsInView, createComment, createPost, expectedStatus, getJson, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(120_000);

/**
 * nats-server before 2.10.26 can move a durable consumer past events that were never acknowledged
 * (after its leader changes) and never deliver them again. Here a stranger does the same on purpose:
 * it takes events from a service's durable consumer while the service is down and acknowledges them
 * unhandled. The services must notice the events passed without their reactions and react to them.
 */
let system: LocalSystem;
/** How many reactions each service has made up for so far, counted from its warnings. */
let madeUp: Record<'moderation' | 'comments', () => number>;

beforeAll(async () => {
  system = await LocalSystem.create({}, { engine: 'nats' });
  madeUp = {
    moderation: system.services.moderation.tally(SKIPPED_REACTION_WARNING),
    comments: system.services.comments.tally(SKIPPED_REACTION_WARNING),
  };
  await system.startAll();
});

afterAll(() => system?.stopAll());

interface StoredEvent {
  seq: number;
  id: string;
  type: string;
  data: { id: string; status?: string };
}

const logOf = () => getJson<StoredEvent[]>(`${system.url('event-bus')}/events`);

/** Takes `count` events from the service's durable consumer and acknowledges them without doing anything. */
async function skipEvents(durable: ServiceName, count: number): Promise<number[]> {
  const connection = await connect({ servers: system.nats.map((node) => node.url) });
  try {
    const consumer = await jetstream(connection).consumers.get(natsNames.EVENTS_STREAM, durable);
    const seqs: number[] = [];
    while (seqs.length < count) {
      const messages = await consumer.fetch({ max_messages: count - seqs.length, expires: 2_000 });
      for await (const message of messages) {
        seqs.push(message.seq);
        await message.ackAck();
      }
    }
    const info = await jetstreamManager(connection).then((jsm) => jsm.consumers.info(natsNames.EVENTS_STREAM, durable));
    // The consumer now stands past them, with nothing left to deliver: as the server bug leaves it.
    expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
    return seqs;
  } finally {
    await connection.close();
  }
}

async function writeComments(postId: string, texts: string[]) {
  const written: { id: string; content: string }[] = [];
  for (const content of texts) {
    const answer = await createComment(system.url('comments'), postId, content);
    expect(answer.status).toBe(201);
    written.push({ id: answer.body.id as string, content });
  }
  return written;
}


it('when a service runs and nothing is skipped, then it makes up no reaction and each follow-up is stored once', async () => {
  const post = await createPost(system.url('posts'), 'Nothing skipped');
  const written = await writeComments(post.body.id, ['fine one', 'an orange', 'fine two']);
  await waitFor('the comments to be final in query', async () => {
    const view = commentsInView(await queryView(system.url('query')));
    return written.every((comment) => view.get(comment.id)?.status === expectedStatus(comment.content));
  });
  // Two audit rounds after the last reaction.
  await new Promise((resolve) => setTimeout(resolve, 4_500));

  const log = await logOf();
  for (const comment of written) {
    expect(log.filter((event) => event.data.id === comment.id).map((event) => event.type)).toEqual(['CommentCreated', 'CommentModerated', 'CommentUpdated']);
  }
  expect([madeUp.moderation(), madeUp.comments()]).toEqual([0, 0]);
});

it('when moderation is down and its durable consumer is moved past new comments, then on restart it moderates them all the same, once each', async () => {
  const post = await createPost(system.url('posts'), 'Skipped by the server');
  await system.services.moderation.stop('SIGKILL');
  const written = await writeComments(post.body.id, ['first fine', 'second has an orange', 'third fine', 'fourth fine']);

  const skipped = await skipEvents('moderation', written.length);
  const log = await logOf();
  expect(skipped.map((seq) => log.find((event) => event.seq === seq)?.data.id)).toEqual(written.map((comment) => comment.id));
  expect(log.filter((event) => event.type === 'CommentModerated' && written.some((comment) => comment.id === event.data.id))).toEqual([]);

  await system.services.moderation.start();
  await waitFor('every skipped comment to reach its final status in query', async () => {
    const view = commentsInView(await queryView(system.url('query')));
    return written.every((comment) => view.get(comment.id)?.status === expectedStatus(comment.content));
  }, { timeoutMs: 45_000 });
  const after = await logOf();
  for (const comment of written) {
    expect(after.filter((event) => event.data.id === comment.id).map((event) => event.type)).toEqual(['CommentCreated', 'CommentModerated', 'CommentUpdated']);
  }
  await waitFor('moderation to warn of each reaction it made up', async () => madeUp.moderation() >= written.length);
  expect(madeUp.moderation()).toBe(written.length);
  // Comments skipped nothing, through more than the audit's grace period: it made up nothing either.
  expect(madeUp.comments()).toBe(0);
});

it('when comments is down and its durable consumer is moved past verdicts, then on restart it announces each verdict all the same', async () => {
  const post = await createPost(system.url('posts'), 'Verdicts skipped');
  // Moderation stays down, so the verdicts below are the only ones, and they are stored while comments is down.
  await system.services.moderation.stop('SIGKILL');
  const written = await writeComments(post.body.id, ['kept fine', 'an orange here']);
  await system.services.comments.stop('SIGKILL');
  const connection = await connect({ servers: system.nats.map((node) => node.url) });
  try {
    const js = jetstream(connection);
    for (const comment of written) {
      const verdict = { type: 'CommentModerated', data: { id: comment.id, postId: post.body.id, content: comment.content, status: expectedStatus(comment.content) } } as const;
      // As moderation would store it: same source, same derived id.
      const envelope = buildEnvelope(verdict, sourceOf('moderation'), derivedEventId('CommentModerated', comment.id));
      await js.publish(natsNames.subjectOf('CommentModerated'), JSON.stringify(envelope), { msgID: envelope.id });
    }
  } finally {
    await connection.close();
  }
  await skipEvents('comments', written.length);

  await system.services.comments.start();
  await waitFor('both comments to reach their final status in query', async () => {
    const view = commentsInView(await queryView(system.url('query')));
    return written.every((comment) => view.get(comment.id)?.status === expectedStatus(comment.content));
  }, { timeoutMs: 45_000 });
  await waitFor('comments to warn of each reaction it made up', async () => madeUp.comments() >= written.length);
  expect(madeUp.comments()).toBe(written.length);

  // Moderation comes back and decides the same: its verdicts carry the same ids, so nothing is stored twice.
  await system.services.moderation.start();
  await waitFor('moderation to have passed the comments', async () => {
    const subscribers = await getJson<{ url: string; lag: number }[]>(`${system.url('event-bus')}/subscribers`);
    return subscribers.every((subscriber) => subscriber.lag === 0);
  });
  const after = await logOf();
  for (const comment of written) {
    expect(after.filter((event) => event.data.id === comment.id).map((event) => event.type)).toEqual(['CommentCreated', 'CommentModerated', 'CommentUpdated']);
  }
});
