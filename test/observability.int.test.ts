import { ChaosLoad } from '../bench/src/chaos/chaosLoad';
import { SeededRandom } from '../bench/src/chaos/random';
import { converged, verify, type StoredEvent, type ViewPost } from '../bench/src/chaos/verify';
import { useLocalSystem } from './support/localSystem';
import { commentsInView, createPost, getJson, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(180_000);

/** The pods' terminationGracePeriodSeconds; a service must be gone well within it. */
const GRACE_PERIOD_MS = 30_000;

const running = useLocalSystem({ LOG_LEVEL: 'info' });

it('when a comment is posted with an X-Request-Id, then the id is echoed, logged, and carried on every event it causes', async () => {
  const post = await createPost(running().url('posts'), 'Traced');
  const response = await fetch(`${running().url('comments')}/posts/${post.body.id}/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-123' },
    body: JSON.stringify({ content: 'follow me' }),
  });
  const comment = (await response.json()) as { id: string };
  expect(response.headers.get('x-request-id')).toBe('trace-me-123');
  await waitFor('the verdict in the view', async () =>
    commentsInView(await queryView(running().url('query'))).get(comment.id)?.status === 'approved' ? true : undefined,
  );

  const log = await getJson<(StoredEvent & { requestid?: string })[]>(`${running().url('event-bus')}/events`);
  const caused = log.filter((event) => (event.data as { id?: string }).id === comment.id);
  expect(caused.map((event) => [event.type, event.requestid])).toEqual([
    ['CommentCreated', 'trace-me-123'],
    ['CommentModerated', 'trace-me-123'],
    ['CommentUpdated', 'trace-me-123'],
  ]);
  const lines = running().services.moderation
    .recentOutput()
    .split('\n')
    .filter((line) => line.includes('trace-me-123'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines).toContainEqual(
    expect.objectContaining({ service: 'moderation', msg: 'event handled', type: 'CommentCreated', requestId: 'trace-me-123', seq: expect.any(Number) }),
  );
  // Publishes and deliveries skip the per-request line; the bus logs what it stored, with the ids.
  const storedLines = running().services['event-bus']
    .recentOutput()
    .split('\n')
    .filter((line) => line.includes('"msg":"events stored"') && line.includes('trace-me-123'))
    .map((line) => JSON.parse(line) as { types: string[]; requestIds: string[]; seqs: number[] });
  expect(storedLines.flatMap((line) => line.types).sort()).toEqual(['CommentCreated', 'CommentModerated', 'CommentUpdated']);
  expect(storedLines.flatMap((line) => line.requestIds)).toEqual(['trace-me-123', 'trace-me-123', 'trace-me-123']);
  const requestLine = running().services.comments
    .recentOutput()
    .split('\n')
    .find((line) => line.includes('"id":"trace-me-123"') && line.includes('request completed'));
  expect(JSON.parse(requestLine!)).toMatchObject({
    service: 'comments',
    req: { id: 'trace-me-123', method: 'POST' },
    res: { statusCode: 201 },
    responseTime: expect.any(Number),
  });
});

it('when comments and then the bus get SIGTERM under load, then each exits 0 in time and no acknowledged write is lost', async () => {
  const load = new ChaosLoad(() => ({ posts: [running().url('posts')], comments: [running().url('comments')] }), new SeededRandom(7));
  load.start(4);
  await new Promise((resolve) => setTimeout(resolve, 1500));

  for (const name of ['comments', 'event-bus'] as const) {
    const started = Date.now();
    const exitCode = await running().services[name].stop('SIGTERM');
    const tookMs = Date.now() - started;
    if (exitCode !== 0) console.log(running().services[name].recentOutput());
    expect({ name, exitCode }).toEqual({ name, exitCode: 0 });
    expect(tookMs).toBeLessThan(GRACE_PERIOD_MS);
    expect(running().services[name].recentOutput()).toMatch(/stopped/);
    await running().services[name].start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  await load.stop();

  let view: Record<string, ViewPost> = {};
  await waitFor('every acknowledged write in the view', async () => {
    view = await getJson<Record<string, ViewPost>>(`${running().url('query')}/posts`);
    return converged(load.records, view);
  }, { timeoutMs: 60_000, intervalMs: 200 });
  const log = await getJson<StoredEvent[]>(`${running().url('event-bus')}/events`);
  const verdict = verify(load.records, view, log);
  expect(verdict.problems).toEqual([]);
  expect(load.records.filter((r) => r.outcome === 'acknowledged').length).toBeGreaterThan(50);
});
