import { commentsInView, createComment, createPost, expectedStatus, getJson, queryView } from '../support/blogApi';
import { ManifestRunner } from '../support/manifestRunner';
import { credentialRefOf } from '../support/k8sWiring';
import { classify, loadManifests, resolveTargetPort, secretValue } from '../support/manifests';
import { waitFor } from '../support/waitFor';

jest.setTimeout(90_000);

describe('the workloads, run as the manifests and Dockerfiles say', () => {
  const manifests = loadManifests();
  const runner = new ManifestRunner(manifests);

  beforeAll(async () => {
    // The bus first, as a pod that others wait on; the services' readiness depends on reading its log.
    const order = [...manifests.workloads].sort((a, b) => Number(b.kind === 'StatefulSet') - Number(a.kind === 'StatefulSet'));
    for (const workload of order) await runner.start(workload);
    for (const workload of order) await runner.waitUntilReady(workload);
  });

  afterAll(() => runner.stopAll());

  it('when every pod is up, then both probes of every container answer 200 on the paths the manifests name', async () => {
    for (const { container } of manifests.workloads) {
      for (const probe of [container.readinessProbe!.httpGet!, container.livenessProbe!.httpGet!]) {
        const port = resolveTargetPort(container, probe.port);
        expect((await fetch(`http://127.0.0.1:${port}${probe.path}`)).status).toBe(200);
      }
    }
  });

  it('when a post and comments are created through the Services, then query shows their final statuses', async () => {
    const postsUrl = runner.serviceUrl('posts-srv');
    const post = await createPost(postsUrl, 'Created through the posts NodePort');
    expect(post.status).toBe(201);
    const comments: { id: string; content: string }[] = [];
    for (const content of ['Kubernetes-ready', 'An orange pod']) {
      const created = await createComment(runner.serviceUrl('comments-srv'), post.body.id, content);
      expect(created.status).toBe(201);
      comments.push(created.body);
    }

    await waitFor('both comments moderated in query', async () => {
      const inView = commentsInView(await queryView(runner.serviceUrl('query-srv')));
      return comments.every((c) => inView.get(c.id)?.status === expectedStatus(c.content));
    });
    expect((await getJson(`${runner.serviceUrl('posts-clusterip-srv')}/posts`))[post.body.id]).toEqual(post.body);

    // The client's env names the Services: through its NodePort, the page and the view it routes to query.
    const client = runner.serviceUrl('client-nodeport-srv');
    expect(await (await fetch(`${client}/`)).text()).toContain('<div id="root"></div>');
    expect((await getJson(`${client}/posts`))[post.body.id]).toMatchObject({ title: post.body.title, comments: expect.any(Array) });
  });

  it("when the bus is called with each Secret's token, then it knows the caller by it: each publishes only its own types, only the operator retries dead letters", async () => {
    const bus = runner.serviceUrl('event-bus-srv');
    const call = (path: string, caller: string | null, body?: object) =>
      fetch(`${bus}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { 'content-type': 'application/json', ...(caller ? { authorization: `Bearer ${secretValue(manifests, credentialRefOf(caller).name, 'token')}` } : {}) },
        body: body && JSON.stringify(body),
      });
    const before = ((await (await call('/events', 'query')).json()) as unknown[]).length;
    const forged = await call('/events', 'comments', { type: 'PostCreated', data: { id: 'forged-through-manifests', title: 'Forged' } });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { details: { message: string }[] }).details[0]!.message).toBe('comments may not publish PostCreated; only posts may');
    expect((await call('/events', null)).status).toBe(401);
    expect((await call('/dead-letters/retry', 'moderation', {})).status).toBe(403);
    expect((await call('/dead-letters/retry', 'operator', {})).status).toBe(202);
    expect(((await (await call('/events', 'operator')).json()) as unknown[]).length).toBe(before);
  });
});

describe('a manifest whose env points nowhere', () => {
  it('when comments is given a port the bus Service does not have, then it never becomes ready', async () => {
    const documents = structuredClone(loadManifests().documents);
    const broken = classify(documents);
    const comments = broken.workloads.find((w) => w.name === 'comments-depl')!;
    comments.container.env!.find((e) => e.name === 'EVENT_BUS_URL')!.value = 'http://127.0.0.1:4999';
    const runner = new ManifestRunner(broken);
    try {
      await runner.start(comments);
      await expect(runner.waitUntilReady(comments, 3000)).rejects.toThrow(/readiness probe \/readyz/);
    } finally {
      await runner.stopAll();
    }
  });
});
