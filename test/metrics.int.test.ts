import { useLocalSystem } from './support/localSystem';
import { commentsInView, createComment, createPost, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(120_000);

const running = useLocalSystem();

/** One sample's value from Prometheus text, matched by name and labels (in any order). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const metricsOf = async (url: string) => {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/plain/);
  return response.text();
};

it('when a post and two comments have gone through, then /metrics on each service tells exactly that', async () => {
  const post = await createPost(running().url('posts'), 'Measured');
  const approved = await createComment(running().url('comments'), post.body.id, 'fine');
  const rejected = await createComment(running().url('comments'), post.body.id, 'orange');
  await waitFor('both verdicts in the view', async () => {
    const view = commentsInView(await queryView(running().url('query')));
    return view.get(approved.body.id)?.status === 'approved' && view.get(rejected.body.id)?.status === 'rejected';
  });
  await waitFor('every subscriber caught up', async () => {
    const status = (await (await fetch(`${running().url('event-bus')}/subscribers`)).json()) as { lag: number }[];
    return status.every((s) => s.lag === 0);
  });

  const bus = await metricsOf(running().url('event-bus'));
  // 1 PostCreated + 2 x (CommentCreated, CommentModerated, CommentUpdated).
  expect(sample(bus, 'bus_events_stored_total')).toBe(7);
  expect(sample(bus, 'bus_publish_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(sample(bus, 'bus_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(sample(bus, 'bus_commit_events_sum')).toBe(7);
  const moderation = `${running().url('moderation')}/events`;
  const query = `${running().url('query')}/events`;
  expect(sample(bus, 'bus_subscriber_position', { subscriber: moderation })).toBe(7);
  expect(sample(bus, 'bus_subscriber_lag', { subscriber: moderation })).toBe(0);
  // moderation handles CommentCreated only; query handles all but CommentModerated.
  expect(sample(bus, 'bus_subscriber_events_delivered_total', { subscriber: moderation })).toBe(2);
  expect(sample(bus, 'bus_subscriber_events_delivered_total', { subscriber: query })).toBe(5);
  expect(sample(bus, 'bus_subscriber_failures_total', { subscriber: moderation }) ?? 0).toBe(0);
  expect(sample(bus, 'bus_subscriber_dead_lettered_total', { subscriber: moderation }) ?? 0).toBe(0);
  expect(sample(bus, 'process_cpu_seconds_total')).toBeGreaterThan(0);

  const comments = await metricsOf(running().url('comments'));
  expect(sample(comments, 'http_requests_total', { method: 'POST', route: '/posts/:id/comments', status: '201' })).toBe(2);
  expect(sample(comments, 'http_request_duration_seconds_count', { method: 'POST', route: '/posts/:id/comments', status: '201' })).toBe(2);
  const posts = await metricsOf(running().url('posts'));
  expect(sample(posts, 'http_requests_total', { method: 'POST', route: '/posts|/posts/create', status: '201' })).toBe(1);
});

it('when unknown paths are probed, then they share one route label instead of growing the series', async () => {
  for (const path of ['/nope', '/posts/1/x/y', '/../etc']) await fetch(`${running().url('query')}${path}`);
  const query = await metricsOf(running().url('query'));
  expect(sample(query, 'http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(3);
  expect(query).not.toContain('/nope');
});
