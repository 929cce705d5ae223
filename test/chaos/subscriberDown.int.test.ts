import { useLocalSystem } from '../support/localSystem';
import { commentsInView, createComment, createPost, expectedStatus, getJson, queryView } from '../support/blogApi';
import { waitFor } from '../support/waitFor';

/** CI keeps moderation down for 20 s; CHAOS_DOWN_SECONDS=180 makes it minutes. */
const downSeconds = Number(process.env.CHAOS_DOWN_SECONDS ?? 20);
jest.setTimeout((downSeconds + 120) * 1000);

// The production backoff cap, so the test also shows how soon a returning subscriber is noticed.
const running = useLocalSystem({ RETRY_MAX_MS: '5000' });

interface SubscriberStatus {
  url: string;
  lag: number;
}

it(`when moderation is down for ${downSeconds} s, then the others keep flowing and it gets every event once back`, async () => {
  const moderationUrl = `${running().url('moderation')}/events`;
  await running().services.moderation.stop('SIGKILL');
  const written: { id: string; content: string }[] = [];
  const until = Date.now() + downSeconds * 1000;
  let round = 0;
  while (Date.now() < until) {
    round += 1;
    const post = await createPost(running().url('posts'), `Written while moderation is down ${round}`);
    expect(post.status).toBe(201);
    for (let i = 0; i < 3; i += 1) {
      const content = i === 0 ? `round ${round}: an orange one` : `round ${round}: comment ${i}`;
      const comment = await createComment(running().url('comments'), post.body.id, content);
      expect(comment.status).toBe(201);
      written.push({ id: comment.body.id, content });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  // Meanwhile the view has every comment, pending, and only moderation is behind.
  await waitFor('every comment pending in the view', async () => {
    const inView = commentsInView(await queryView(running().url('query')));
    return written.every((c) => inView.get(c.id)?.status === 'pending');
  });
  const status = await getJson<SubscriberStatus[]>(`${running().url('event-bus')}/subscribers`);
  expect(status.find((s) => s.url === moderationUrl)!.lag).toBeGreaterThan(0);
  for (const other of status.filter((s) => s.url !== moderationUrl)) expect(other.lag).toBe(0);

  const back = Date.now();
  await running().services.moderation.start();
  await waitFor(
    `all ${written.length} comments to reach their final status`,
    async () => {
      const inView = commentsInView(await queryView(running().url('query')));
      return written.every((c) => inView.get(c.id)?.status === expectedStatus(c.content));
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  console.log(`moderation was down ${downSeconds} s with ${written.length} comments behind; caught up ${(Date.now() - back) / 1000} s after its restart`);
  const view = commentsInView(await queryView(running().url('query')));
  expect(written.every((c) => view.get(c.id)!.count === 1)).toBe(true);
});
