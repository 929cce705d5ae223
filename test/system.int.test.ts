import { useLocalSystem } from './support/localSystem';
import {
  commentsInView,
  createComment,
  createPost,
  expectedStatus,
  getJson,
  queryView,
  type QueryView,
} from './support/blogApi';
import { waitFor } from './support/waitFor';

jest.setTimeout(120_000);

const running = useLocalSystem();

const posts = () => running().url('posts');
const comments = () => running().url('comments');
const query = () => running().url('query');
const bus = () => running().url('event-bus');

interface Accepted {
  id: string;
  postId: string;
  content: string;
}

/** Waits until every accepted comment is in the query view with its final status, and returns the view. */
async function waitUntilSettled(accepted: Accepted[]): Promise<QueryView> {
  return waitFor(
    `${accepted.length} comments to reach their final status in query`,
    async () => {
      const view = await queryView(query());
      const inView = commentsInView(view);
      const settled = accepted.every((c) => inView.get(c.id)?.status === expectedStatus(c.content));
      return settled ? view : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

async function newPost(): Promise<string> {
  const created = await createPost(posts(), `System test ${Date.now()}`);
  expect(created.status).toBe(201);
  return created.body.id;
}

async function addComments(postId: string, count: number, label: string): Promise<Accepted[]> {
  const accepted: Accepted[] = [];
  for (let i = 0; i < count; i += 1) {
    const content = i % 3 === 0 ? `${label} ${i} with an orange` : `${label} ${i} looks fine`;
    const response = await createComment(comments(), postId, content);
    expect(response.status).toBe(201);
    accepted.push({ id: response.body.id, postId, content });
  }
  return accepted;
}

interface LogEntry {
  seq: number;
  id: string;
  source: string;
  type: string;
  data: { id: string };
}

async function expectLogWellFormed(): Promise<LogEntry[]> {
  const log = await getJson<LogEntry[]>(`${bus()}/events`);
  expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
  expect(new Set(log.map((e) => `${e.source} ${e.id}`)).size).toBe(log.length);
  return log;
}

it('when a post gets comments, then query shows each one go from pending to approved or rejected', async () => {
  const postId = await newPost();
  const kind = await createComment(comments(), postId, 'What a lovely post');
  const sour = await createComment(comments(), postId, 'ORANGE is the only colour');
  expect(kind.body).toEqual({ id: expect.any(String), content: 'What a lovely post', status: 'pending' });

  const view = await waitUntilSettled([
    { id: kind.body.id, postId, content: kind.body.content },
    { id: sour.body.id, postId, content: sour.body.content },
  ]);

  expect(view[postId]).toEqual({
    id: postId,
    title: expect.stringMatching(/^System test/),
    comments: [
      { id: kind.body.id, content: 'What a lovely post', status: 'approved' },
      { id: sour.body.id, content: 'ORANGE is the only colour', status: 'rejected' },
    ],
  });
  expect((await getJson(`${posts()}/posts`))[postId]).toEqual({ id: postId, title: view[postId]!.title });
  expect(await getJson(`${comments()}/posts/${postId}/comments`)).toEqual(view[postId]!.comments);
});

it('when query is killed and restarted, then it rebuilds the same view from the log', async () => {
  const postId = await newPost();
  await waitUntilSettled(await addComments(postId, 5, 'before the crash'));
  const before = await queryView(query());

  await running().services.query.restart();

  expect(await queryView(query())).toEqual(before);
});

it('when moderation is killed while comments are created, then every comment ends with one verdict after it restarts', async () => {
  const postId = await newPost();
  const accepted = await addComments(postId, 10, 'early');
  await running().services.moderation.stop('SIGKILL');
  accepted.push(...(await addComments(postId, 10, 'while moderation is down')));

  const whileDown = commentsInView(await queryView(query()));
  expect(accepted.filter((c) => whileDown.get(c.id)?.status === 'pending').length).toBeGreaterThan(0);

  await running().services.moderation.start();
  const view = await waitUntilSettled(accepted);

  const inView = commentsInView(view);
  for (const comment of accepted) expect(inView.get(comment.id)).toMatchObject({ count: 1, postId });
  const log = await expectLogWellFormed();
  for (const comment of accepted) {
    expect(log.filter((e) => e.type === 'CommentModerated' && e.data.id === comment.id)).toHaveLength(1);
    expect(log.filter((e) => e.type === 'CommentUpdated' && e.data.id === comment.id)).toHaveLength(1);
  }
});

it('when the bus is killed mid-stream and restarted, then every comment answered 201 is in the view exactly once', async () => {
  const postId = await newPost();
  const accepted: Accepted[] = [];
  const refused: number[] = [];
  let writing = true;

  const writer = async (worker: number) => {
    for (let i = 0; writing; i += 1) {
      const content = i % 4 === 0 ? `worker ${worker} #${i} orange` : `worker ${worker} #${i}`;
      try {
        const response = await createComment(comments(), postId, content);
        if (response.status === 201) accepted.push({ id: response.body.id, postId, content });
        else refused.push(response.status);
      } catch {
        refused.push(0);
      }
    }
  };
  const writers = [1, 2, 3, 4].map(writer);

  await waitFor('some comments accepted', () => accepted.length >= 20);
  await running().services['event-bus'].stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await running().services['event-bus'].start();
  const acceptedBeforeRestart = accepted.length;
  await waitFor('comments accepted after the restart', () => accepted.length >= acceptedBeforeRestart + 20);
  writing = false;
  await Promise.all(writers);

  expect(refused.every((status) => status === 503)).toBe(true);
  const view = await waitUntilSettled(accepted);
  const inView = commentsInView(view);
  for (const comment of accepted) expect(inView.get(comment.id)?.count).toBe(1);
  for (const [, comment] of inView) expect(comment.count).toBe(1);
  await expectLogWellFormed();
});
