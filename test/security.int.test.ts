import { SERVICE_NAMES, useLocalSystem } from './support/localSystem';
import { commentsInView, createComment, createPost, queryView } from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(120_000);

const TOKEN = 'system-test-token-0123456789';
const running = useLocalSystem({ BUS_TOKEN: TOKEN });

describe('with a bus token configured in every process', () => {
  it('when a comment is created, then it travels through the bus to its final status in query', async () => {
    const post = await createPost(running().url('posts'), 'Guarded post');
    const comment = await createComment(running().url('comments'), post.body.id, 'an orange comment');

    expect(post.status).toBe(201);
    expect(comment.status).toBe(201);
    await waitFor('the rejected comment in query', async () =>
      commentsInView(await queryView(running().url('query'))).get(comment.body.id)?.status === 'rejected' ? true : undefined,
    );
  });

  it.each(SERVICE_NAMES)('when %s is sent an event without the token, then it answers 401 and applies nothing', async (name) => {
    const forged = { type: 'PostCreated', data: { id: 'forged-post', title: 'Forged' } };

    const response = await fetch(`${running().url(name)}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/bus token/), details: [] });
    expect(await queryView(running().url('query'))).not.toHaveProperty('forged-post');
  });

  it('when the public API is called without a token, then it still works (only the bus paths are guarded)', async () => {
    const response = await fetch(`${running().url('query')}/posts`);
    expect(response.status).toBe(200);
    expect((await fetch(`${running().url('event-bus')}/healthz`)).status).toBe(200);
  });
});
