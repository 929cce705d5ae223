import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createBus, type Bus } from '../src/bus';
import { configSchema } from '../src/config';
import { buildEnvelope } from '@blog/contracts';
import { postCreated } from '../../test/support/factories';
import { startSubscriber } from '../../test/support/subscriber';
import { silentLogger } from '../../test/support/silentLogger';
import { waitFor } from '../../test/support/waitFor';

const openBuses: Bus[] = [];
const dataDirs: string[] = [];

function openBus(subscribers: string[], env: Record<string, string | number> = {}, dataDir?: string) {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bus-dead-letters-'));
  if (!dataDir) dataDirs.push(dir);
  const config = configSchema.parse({
    DATA_DIR: dir,
    SUBSCRIBERS: subscribers.join(','),
    DELIVERY_BATCH_SIZE: 10,
    RETRY_BASE_MS: 5,
    RETRY_MAX_MS: 20,
    MAX_DELIVERY_ATTEMPTS: 3,
    ...env,
  });
  const bus = createBus(config, silentLogger);
  bus.lifecycle.markReady();
  bus.hub.start();
  openBuses.push(bus);
  return { ...bus, dataDir: dir };
}

async function closeBus(bus: Bus) {
  openBuses.splice(openBuses.indexOf(bus), 1);
  await bus.close();
}

afterEach(async () => {
  await Promise.all(openBuses.splice(0).map((bus) => bus.close()));
  for (const dir of dataDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const publishPosts = async (bus: Bus, titles: string[]) => {
  for (const title of titles) {
    await request(bus.app)
      .post('/events')
      .send({ type: 'PostCreated', data: { ...postCreated().data, title } })
      .expect(201);
  }
};
const titleOf = (event: { data: unknown }) => (event.data as { title: string }).title;

describe('dead letters', () => {
  it('when a subscriber always refuses one event, then it is parked after the attempts and the rest still flows', async () => {
    const subscriber = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const bus = openBus([subscriber.url]);

    await publishPosts(bus, ['a', 'b', 'poison', 'c', 'd']);

    await waitFor('the four good events', () => subscriber.received.length === 4);
    expect(subscriber.received.map(titleOf)).toEqual(['a', 'b', 'c', 'd']);
    const parked = await request(bus.app).get('/dead-letters').expect(200);
    expect(parked.body).toEqual([
      expect.objectContaining({ subscriber: subscriber.url, seq: 3, type: 'PostCreated', attempts: 3, lastError: 'answered 500' }),
    ]);
    const status = await request(bus.app).get('/subscribers').expect(200);
    expect(status.body[0]).toMatchObject({ position: 5, lag: 0, deadLettered: 1 });
    await subscriber.close();
  });

  it('when the cause is fixed and the dead letter is retried, then the subscriber gets it and the list empties', async () => {
    const subscriber = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const bus = openBus([subscriber.url]);
    await publishPosts(bus, ['a', 'poison']);
    await waitFor('the event parked', () => bus.hub.deadLetters().length === 1);

    subscriber.stopRefusing();
    const retry = await request(bus.app).post('/dead-letters/retry').send({ subscriber: subscriber.url, seq: 2 });

    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ retrying: 1 });
    await waitFor('the retried event', () => subscriber.received.some((event) => titleOf(event) === 'poison'));
    await request(bus.app).get('/dead-letters').expect(200, []);
    await subscriber.close();
  });

  it('when the bus restarts, then parked events are still listed and not delivered again on their own', async () => {
    const subscriber = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
    const first = openBus([subscriber.url]);
    await publishPosts(first, ['poison', 'after']);
    await waitFor('the good event', () => subscriber.received.length === 1);
    await closeBus(first);
    const deliveriesBefore = subscriber.deliveries;

    const second = openBus([subscriber.url], {}, first.dataDir);
    await publishPosts(second, ['later']);
    await waitFor('the new event', () => subscriber.received.length === 2);

    expect(subscriber.deliveries).toBe(deliveriesBefore + 1);
    const parked = await request(second.app).get('/dead-letters').expect(200);
    expect(parked.body).toEqual([expect.objectContaining({ seq: 1, attempts: 3 })]);
    await subscriber.close();
  });

  it.each([503, 401, 404])(
    'when a subscriber answers %i many times, then nothing is parked: that is about the subscriber, not the event',
    async (status) => {
      const subscriber = await startSubscriber({ failures: 12, failStatus: status });
      const bus = openBus([subscriber.url]);
      await publishPosts(bus, ['a', 'b']);

      await waitFor('both events', () => subscriber.received.length === 2, { timeoutMs: 15_000 });

      expect(subscriber.received.map(titleOf)).toEqual(['a', 'b']);
      expect(bus.hub.deadLetters()).toEqual([]);
      await subscriber.close();
    },
  );

  it.each([
    [{ seq: 0 }, /seq/],
    [{ subscriber: 5 }, /subscriber/],
    [{ everything: true }, /everything/],
  ])('when a retry request is %j, then it answers 400 naming the field', async (body, field) => {
    const bus = openBus([]);
    const response = await request(bus.app).post('/dead-letters/retry').send(body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.details)).toMatch(field);
  });

  it('when nothing matches a retry request, then it answers 202 with nothing retrying', async () => {
    const bus = openBus([]);
    await request(bus.app).post('/dead-letters/retry').send({}).expect(202, { retrying: 0 });
  });
});

describe('credentials: each caller its own token, each publisher its own event types', () => {
  const tokens = { posts: 'posts-token-0123456789', comments: 'comments-token-0123456789', moderation: 'moderation-token-012345', query: 'query-token-0123456789', operator: 'operator-token-0123456789' };
  const credentials = Object.entries(tokens).map(([name, token]) => `${name}:${token}`).join(',');
  const as = (name: keyof typeof tokens) => `Bearer ${tokens[name]}`;
  const publishAs = (bus: ReturnType<typeof openBus>, name: keyof typeof tokens | null, body: unknown) => {
    const call = request(bus.app).post('/events');
    return (name ? call.set('authorization', as(name)) : call).send(body as object);
  };
  const logOf = async (bus: ReturnType<typeof openBus>) => (await request(bus.app).get('/events?after=0').set('authorization', as('query')).expect(200)).body;

  it('when no credential or a wrong one is presented, then publishing, reading and the metrics answer 401, and health checks do not need one', async () => {
    const bus = openBus([], { BUS_CREDENTIALS: credentials });
    const event = { type: 'PostCreated', data: postCreated().data };

    const missing = await publishAs(bus, null, event);
    const wrong = await request(bus.app).post('/events').set('authorization', 'Bearer wrong-token-wrong-token').send(event);

    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatch(/needs a bus token/);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('wrong bus token');
    for (const endpoint of ['/events?after=0', '/subscribers', '/dead-letters', '/metrics']) {
      expect((await request(bus.app).get(endpoint)).status).toBe(401);
    }
    expect((await request(bus.app).get('/metrics').set('authorization', as('query'))).status).toBe(200);
    await request(bus.app).get('/healthz').expect(200);
    await request(bus.app).get('/readyz').expect(200);
    expect(await logOf(bus)).toEqual([]);
  });

  it.each([
    ['comments', 'PostCreated', () => ({ type: 'PostCreated', data: postCreated().data })],
    ['comments', 'CommentModerated', () => ({ type: 'CommentModerated', data: { id: 'c1', postId: 'p1', content: 'I love orange', status: 'approved' } })],
    ['posts', 'CommentCreated', () => ({ type: 'CommentCreated', data: { id: 'c2', postId: 'no-such-post', content: 'x', status: 'pending' } })],
    ['query', 'CommentUpdated', () => ({ type: 'CommentUpdated', data: { id: 'c3', postId: 'p1', content: 'rewritten', status: 'approved' } })],
    ['operator', 'PostCreated', () => ({ type: 'PostCreated', data: postCreated().data })],
  ] as const)('when %s publishes %s, which it does not own, then it answers 403 naming the owner and stores nothing', async (name, type, body) => {
    const bus = openBus([], { BUS_CREDENTIALS: credentials });

    const answer = await publishAs(bus, name, body());
    const inBatch = await publishAs(bus, name, [{ type: 'SomethingNew', data: {} }, body()]);

    expect(answer.status).toBe(403);
    expect(answer.body.details).toEqual([{ path: 'type', message: expect.stringMatching(new RegExp(`^${name} may not publish ${type}; only \\w+ may$`)) }]);
    expect(inBatch.status).toBe(403);
    // The type nobody owns is the operator's to publish: refused too, for anyone else.
    expect(inBatch.body.details).toEqual([...(name === 'operator' ? [] : [expect.objectContaining({ path: '0.type' })]), expect.objectContaining({ path: '1.type' })]);
    expect(await logOf(bus)).toEqual([]);
  });

  it('when a service publishes its own type claiming another source, then it is stored with the source of its credential', async () => {
    const bus = openBus([], { BUS_CREDENTIALS: credentials });

    const answer = await publishAs(bus, 'moderation', { ...buildEnvelope({ type: 'CommentModerated', data: { id: 'c', postId: 'p', content: 'x', status: 'approved' } }, '/posts') });

    expect(answer.status).toBe(201);
    expect((await logOf(bus)).map((event: { source: string }) => event.source)).toEqual(['/moderation']);
  });

  it('when a subscriber is named, then its deliveries carry its own token, and follow-ups in its answer are held to what it may publish', async () => {
    const honest = await startSubscriber();
    const forger = await startSubscriber({ answer: () => ({ publish: [buildEnvelope({ type: 'PostCreated', data: postCreated().data }, '/posts')] }) });
    const bus = openBus([`query=${honest.url}`, `moderation=${forger.url}`], { BUS_CREDENTIALS: credentials });
    await publishAs(bus, 'posts', { type: 'PostCreated', data: postCreated().data }).expect(201);

    await waitFor('the honest delivery', () => honest.received.length === 1);
    await waitFor('the forged follow-up to be parked', async () => (await request(bus.app).get('/dead-letters').set('authorization', as('query'))).body.length === 1);

    expect(honest.authorizations).toEqual([as('query')]);
    expect(forger.authorizations[0]).toBe(as('moderation'));
    const letters = (await request(bus.app).get('/dead-letters').set('authorization', as('query'))).body;
    expect(letters[0].lastError).toMatch(/moderation may not publish PostCreated/);
    expect(await logOf(bus)).toHaveLength(1);
    await honest.close();
    await forger.close();
  });

  it('when a service asks to retry dead letters, then it answers 403; the operator credential may', async () => {
    const bus = openBus([], { BUS_CREDENTIALS: credentials });

    const byService = await request(bus.app).post('/dead-letters/retry').set('authorization', as('comments')).send({});
    const byOperator = await request(bus.app).post('/dead-letters/retry').set('authorization', as('operator')).send({});

    expect(byService.status).toBe(403);
    expect(byService.body.error).toMatch(/takes the operator credential/);
    expect(byOperator.status).toBe(202);
  });

  it('when the bus is given one shared BUS_TOKEN, two names with one token, or a named subscriber without a credential, then its configuration is refused', () => {
    expect(() => configSchema.parse({ BUS_TOKEN: 'a-test-token-of-enough-length' })).toThrow(/the bus takes BUS_CREDENTIALS/);
    expect(() => configSchema.parse({ BUS_CREDENTIALS: 'posts:same-token-0123456789,comments:same-token-0123456789' })).toThrow(/same token as another/);
    expect(() => configSchema.parse({ BUS_CREDENTIALS: 'posts:short' })).toThrow(/at least 16 characters/);
    expect(() => configSchema.parse({ BUS_CREDENTIALS: credentials, SUBSCRIBERS: 'stranger=http://x/events' })).toThrow(/needs a credential of that name/);
  });
});

describe('headers', () => {
  it('answers with helmet headers and no CORS headers by default', async () => {
    const bus = openBus([]);
    const response = await request(bus.app).get('/healthz').set('origin', 'http://elsewhere.example');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeDefined();
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when CORS origins are configured, then only those origins are allowed', async () => {
    const bus = openBus([], { CORS_ORIGINS: 'http://blog.example, http://admin.example' });
    const allowed = await request(bus.app).options('/events').set('origin', 'http://admin.example').set('access-control-request-method', 'POST');
    const other = await request(bus.app).get('/healthz').set('origin', 'http://elsewhere.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('http://admin.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
