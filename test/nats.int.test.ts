import { EventReceiver, Lifecycle, NatsEngine } from '@blog/service-kit';
import { LocalSystem } from './support/localSystem';
import { silentLogger } from './support/silentLogger';
import { commentsInView, createComment, createPost, expectedStatus, getJson, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(120_000);

/** NATS JetStream as the engine: three servers on loopback, two processes of every service. */
let system: LocalSystem;

beforeAll(async () => {
  system = await LocalSystem.create({}, { engine: 'nats', natsNodes: 3, replicas: 2 });
  await system.startAll();
});

afterAll(async () => {
  await system?.stopAll();
});

interface StoredEvent {
  seq: number;
  id: string;
  type: string;
  data: { id: string };
}

it('when posts and comments are written to different replicas, then every query replica shows each with its final status', async () => {
  const [postsOne, postsTwo] = system.urls('posts');
  const [commentsOne, commentsTwo] = system.urls('comments');
  const first = await createPost(postsOne!, 'Written to posts 1');
  const second = await createPost(postsTwo!, 'Written to posts 2');
  expect([first.status, second.status]).toEqual([201, 201]);
  // A comment on a post made a moment ago through the other replica: comments must know it already or catch up.
  const written = [
    { url: commentsTwo!, postId: first.body.id, content: 'Lovely, from comments 2' },
    { url: commentsOne!, postId: second.body.id, content: 'An orange, from comments 1' },
    { url: commentsOne!, postId: first.body.id, content: 'Fine, from comments 1' },
  ];
  const accepted: { id: string; content: string }[] = [];
  for (const { url, postId, content } of written) {
    const response = await createComment(url, postId, content);
    expect(response.status).toBe(201);
    accepted.push({ id: response.body.id as string, content });
  }

  for (const url of system.urls('query')) {
    await waitFor(`${url} to show every comment final`, async () => {
      const inView = commentsInView(await queryView(url));
      return accepted.every((comment) => inView.get(comment.id)?.status === expectedStatus(comment.content));
    }, { timeoutMs: 20_000 });
    const view = await queryView(url);
    expect(Object.keys(view)).toEqual(expect.arrayContaining([first.body.id, second.body.id]));
    expect([...commentsInView(view).values()].every((comment) => comment.count === 1)).toBe(true);
  }
  for (const url of system.urls('comments')) {
    const onFirst = await getJson<{ id: string; status: string }[]>(`${url}/posts/${first.body.id}/comments`);
    expect(onFirst.map((comment) => comment.status).sort()).toEqual(['approved', 'approved']);
  }
});

it('when the gateway is asked, then every replica of it serves the same log, and each durable consumer is listed caught up', async () => {
  const [gatewayOne, gatewayTwo] = system.urls('event-bus');
  const course = await fetch(`${gatewayTwo}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'PostCreated', data: { id: 'from-a-course-publisher', title: 'Bare event' } }),
  });
  expect(course.status).toBe(201);
  const receipt = (await course.json()) as { seq: number };

  const logOne = await getJson<StoredEvent[]>(`${gatewayOne}/events`);
  const logTwo = await getJson<StoredEvent[]>(`${gatewayTwo}/events?after=0&limit=10000`);
  expect(logOne.map((event) => event.seq)).toEqual(logOne.map((_, index) => index + 1));
  expect(logTwo).toEqual(logOne);
  expect(logOne.find((event) => event.seq === receipt.seq)).toMatchObject({ type: 'PostCreated', data: { id: 'from-a-course-publisher' } });
  await waitFor('every query replica to show the bare post', async () => {
    const views = await Promise.all(system.urls('query').map((url) => queryView(url)));
    return views.every((view) => 'from-a-course-publisher' in view);
  }, { timeoutMs: 20_000 });

  await waitFor('the durable consumers to catch up', async () => {
    const subscribers = await getJson<{ url: string; lag: number }[]>(`${gatewayOne}/subscribers`);
    return subscribers.length === 2 && subscribers.every((subscriber) => subscriber.lag === 0);
  }, { timeoutMs: 20_000 });
  const subscribers = await getJson<{ url: string; position: number; types: string[]; deadLettered: number }[]>(`${gatewayTwo}/subscribers`);
  expect(subscribers).toEqual([
    expect.objectContaining({ url: 'comments', types: ['CommentModerated'], deadLettered: 0 }),
    expect.objectContaining({ url: 'moderation', types: ['CommentCreated'], deadLettered: 0 }),
  ]);
  expect(await getJson(`${gatewayOne}/dead-letters`)).toEqual([]);
});

it('when one replica of comments and query is killed, then writes to the other are still answered and shown', async () => {
  const [, commentsTwo] = system.replicas.comments;
  const [queryOne, queryTwo] = system.replicas.query;
  const post = await createPost(system.urls('posts')[0]!, 'Survives a replica');
  await system.replicas.comments[0]!.stop('SIGKILL');
  await queryOne!.stop('SIGKILL');

  const comment = await createComment(commentsTwo!.url, post.body.id, 'Still here');
  expect(comment.status).toBe(201);
  await waitFor('the surviving query replica to show it approved', async () => commentsInView(await queryView(queryTwo!.url)).get(comment.body.id)?.status === 'approved', {
    timeoutMs: 20_000,
  });

  // The restarted replica replays the stream and catches up with what it missed.
  await system.replicas.comments[0]!.start();
  await queryOne!.start();
  await waitFor('the restarted query replica to show it too', async () => commentsInView(await queryView(queryOne!.url)).get(comment.body.id)?.status === 'approved', {
    timeoutMs: 20_000,
  });
});

it('when a consumer keeps failing on one event, then the gateway lists it as a dead letter, the rest flow, and a retry after the fix delivers it', async () => {
  const engine = new NatsEngine({
    servers: system.nats.map((node) => node.url),
    name: 'picky',
    source: '/picky',
    replicas: 3,
    dedupeWindowMs: 600_000,
    timeoutMs: 2000,
    publishWaitMs: 5000,
    reactions: { ackWaitMs: 500, maxDeliveries: 3, retryMaxMs: 200, inFlight: 8 },
    logger: silentLogger,
  });
  const handled: string[] = [];
  let broken = true;
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const receiver = new EventReceiver({
    engine,
    lifecycle,
    logger: silentLogger,
    handlers: {
      applies: [],
      reactsTo: ['PostCreated'],
      react: (event) => {
        if (broken && event.type === 'PostCreated' && event.data.title === 'poison') throw new Error('cannot take this title');
        if (event.type === 'PostCreated') handled.push(event.data.title);
        return [];
      },
    },
  });
  const subscription = await engine.subscribe(receiver);
  const gateway = system.urls('event-bus')[0]!;
  try {
    await createPost(system.urls('posts')[0]!, 'poison');
    await createPost(system.urls('posts')[1]!, 'after the poison');

    await waitFor('the next post to be handled', async () => handled.includes('after the poison'), { timeoutMs: 20_000 });
    const letters = await waitFor(
      'the poison post to be parked',
      async () => {
        const listed = await getJson<{ subscriber: string; type: string; attempts: number; lastError: string }[]>(`${gateway}/dead-letters`);
        return listed.length > 0 ? listed : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(letters).toEqual([expect.objectContaining({ subscriber: 'picky', type: 'PostCreated', attempts: 3, lastError: 'cannot take this title' })]);
    const picky = (await getJson<{ url: string; deadLettered: number }[]>(`${gateway}/subscribers`)).find((entry) => entry.url === 'picky');
    expect(picky).toMatchObject({ deadLettered: 1 });

    // The cause fixed, the parked event is sent back to that consumer only, and leaves the list.
    broken = false;
    const retry = await fetch(`${gateway}/dead-letters/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscriber: 'picky' }) });
    expect([retry.status, await retry.json()]).toEqual([202, { retrying: 1 }]);
    await waitFor('the retried post to be handled', async () => handled.includes('poison'), { timeoutMs: 20_000 });
    expect(await getJson(`${gateway}/dead-letters`)).toEqual([]);
    expect(handled.filter((title) => title === 'after the poison')).toHaveLength(1);
  } finally {
    await subscription.stop();
    await engine.close();
  }
});
