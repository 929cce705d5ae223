import { ServiceProcess, freePort, natsCluster, type NatsNode } from './support/localSystem';
import { OLD_NATS_SERVER_VERSION, oldNatsServerProgram } from './support/natsServers';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';

/**
 * A service pointed at a nats-server older than the engine supports (Debian 12's 2.9.10, which
 * scripts/get-nats-server.sh puts in .tools/) refuses it: alive, never ready, and /readyz, its log and
 * its refused writes say which version it found and what to install.
 */
jest.setTimeout(60_000);

let server: NatsNode;
const services: ServiceProcess[] = [];

beforeAll(async () => {
  const dir = makeTempDir('old-nats-');
  // 2.9 knows no sync_interval: its own default, as it would run.
  server = (await natsCluster(1, dir, { program: oldNatsServerProgram(), sync: 'interval' }))[0]!;
  await server.start();
});

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop()));
  await server?.stop();
  removeTempDirs();
});

async function serviceOnOldServer(name: 'posts' | 'query'): Promise<ServiceProcess> {
  const service = new ServiceProcess(name, await freePort(), { NATS_URL: server.url, LOG_LEVEL: 'warn', NATS_PUBLISH_WAIT_MS: '500' });
  services.push(service);
  await service.start({ until: 'alive' });
  return service;
}

it(`when the NATS server is ${OLD_NATS_SERVER_VERSION}, then a service stays alive and not ready, and /readyz says the version and what to install`, async () => {
  expect(server.version).toBe(OLD_NATS_SERVER_VERSION);
  const query = await serviceOnOldServer('query');

  const readiness = await waitFor('query to say why it is not ready', async () => {
    const answer = await fetch(`${query.url}/readyz`);
    const body = (await answer.json()) as { status: string; problems?: string[]; action?: string };
    return answer.status === 503 && body.status === 'unsupported NATS server' ? body : undefined;
  });
  expect(readiness.problems).toEqual([expect.stringContaining(`nats-server ${OLD_NATS_SERVER_VERSION} is too old: the NATS engine needs 2.10 or later`)]);
  expect(readiness.action).toContain('bash scripts/get-nats-server.sh');
  expect(query.recentOutput()).toContain(`nats-server ${OLD_NATS_SERVER_VERSION} is too old`);
  // Still not ready a moment later: it does not give up on its check.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect((await fetch(`${query.url}/readyz`)).status).toBe(503);
});

it(`when the NATS server is ${OLD_NATS_SERVER_VERSION}, then a write answers 503 saying the server is too old, and nothing is stored`, async () => {
  const posts = await serviceOnOldServer('posts');

  const answer = await fetch(`${posts.url}/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'On an old server' }) });

  expect(answer.status).toBe(503);
  const body = (await answer.json()) as { error: string; details: string[] };
  expect(JSON.stringify(body)).toContain('too old');
  const info = (await (await fetch(`http://127.0.0.1:${server.ports.monitor}/jsz`)).json()) as { messages: number };
  expect(info.messages).toBe(0);
});
