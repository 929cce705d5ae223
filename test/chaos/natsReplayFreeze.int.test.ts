import { NatsEngine } from '@blog/service-kit';
import { ServiceProcess, freePort, natsCluster, type NatsNode } from '../support/localSystem';
import { postCreated } from '../support/factories';
import { queryView, wholeView } from '../support/blogApi';
import { silentLogger } from '../support/silentLogger';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';

/**
 * A replay whose reads stop part-way: the NATS server is frozen (SIGSTOP) while query replays a long
 * log, so a page times out and comes back short or not at all. The replay must read on to the end the
 * log had when it began, and the live feed go on after it.
 */
const EVENTS = 30_000;

jest.setTimeout(180_000);

let server: NatsNode;
let query: ServiceProcess | null = null;

beforeAll(async () => {
  server = (await natsCluster(1, makeTempDir('replay-freeze-')))[0]!;
  await server.start();
  const writer = new NatsEngine({ servers: [server.url], name: 'writer', source: '/posts', replicas: 1, dedupeWindowMs: 60_000, timeoutMs: 5_000, publishWaitMs: 10_000, reactions: { ackWaitMs: 1_000, maxDeliveries: 3, retryMaxMs: 500, inFlight: 8 }, logger: silentLogger });
  for (let sent = 0; sent < EVENTS; sent += 1_000) await Promise.all(Array.from({ length: 1_000 }, () => writer.publish(postCreated())));
  await writer.close();
});

afterAll(async () => {
  await query?.stop();
  await server?.stop();
  removeTempDirs();
});

it(`when the server freezes for 3 s while query replays ${EVENTS} events, then query ends with the whole log applied and takes new events after it`, async () => {
  query = new ServiceProcess('query', await freePort(), { NATS_URL: server.url, LOG_LEVEL: 'warn', BUS_TIMEOUT_MS: '1000' });
  await query.start({ until: 'alive' });
  // Listening, and (this is checked) still replaying: the freeze lands part-way.
  const replaying = (await (await fetch(`${query.url}/readyz`)).json()) as { status: string };
  process.kill(server.pid!, 'SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  process.kill(server.pid!, 'SIGCONT');
  expect(replaying.status).toBe('starting');

  // Ready only with the whole log applied: the view read the moment it first says so holds all of it.
  await waitFor('query to be ready', async () => (await fetch(`${query!.url}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 20 });
  expect(Object.keys(await wholeView(query.url))).toHaveLength(EVENTS);

  const writer = new NatsEngine({ servers: [server.url], name: 'writer', source: '/posts', replicas: 1, dedupeWindowMs: 60_000, timeoutMs: 5_000, publishWaitMs: 10_000, reactions: { ackWaitMs: 1_000, maxDeliveries: 3, retryMaxMs: 500, inFlight: 8 }, logger: silentLogger });
  const fresh = postCreated();
  await writer.publish(fresh);
  await writer.close();
  await waitFor('the live feed to bring the new post', async () => fresh.data.id in (await queryView(query!.url)), { timeoutMs: 15_000 });
});
