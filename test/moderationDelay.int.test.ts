import { useLocalSystem } from './support/localSystem';
import { commentsInView, createComment, createPost, getJson, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

/**
 * MODERATION_DELAY_MS longer than the bus waits for a delivery's answer (DELIVERY_TIMEOUT_MS): the bus
 * gives up on the held delivery and sends it again, and the second delivery waits only what is left of
 * the first wait, so the verdict comes once, after the delay. Were each delivery held the whole delay,
 * every delivery would be given up on and the comment would stay pending.
 */
jest.setTimeout(60_000);

const DELAY_MS = 1_500;
const running = useLocalSystem({ MODERATION_DELAY_MS: String(DELAY_MS), DELIVERY_TIMEOUT_MS: '1000', RETRY_BASE_MS: '100' });

it('when moderation holds each comment longer than the bus waits for an answer, then the verdict still comes, once, no sooner than the delay', async () => {
  const post = await createPost(running().url('posts'), 'Held');
  const sentAt = Date.now();
  const comment = await createComment(running().url('comments'), post.body.id, 'Slowly moderated');
  expect(comment.status).toBe(201);

  await waitFor('the verdict in query', async () => commentsInView(await queryView(running().url('query'))).get(comment.body.id)?.status === 'approved', { timeoutMs: 30_000, intervalMs: 100 });

  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(DELAY_MS);
  const log = await getJson<{ type: string; data: { id: string } }[]>(`${running().url('event-bus')}/events?after=0`);
  expect(log.filter((event) => event.type === 'CommentModerated' && event.data.id === comment.body.id)).toHaveLength(1);
});
