import { startSubscriber } from '../support/subscriber';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';
import { busProcess, publishPost } from './busProcess';

afterAll(removeTempDirs);

const titleOf = (event: { data: unknown }) => (event.data as { title: string }).title;

it('when a subscriber answers 500 to one event every time, then it is parked and the bus goes on; a retry delivers it once fixed', async () => {
  const poisoned = await startSubscriber({ refuses: (event) => titleOf(event) === 'poison' });
  const healthy = await startSubscriber();
  const bus = await busProcess(makeTempDir('bus-poison-'), {
    SUBSCRIBERS: `${poisoned.url},${healthy.url}`,
    MAX_DELIVERY_ATTEMPTS: '4',
    LOG_LEVEL: 'error',
  });
  await bus.start();

  for (const title of ['one', 'two', 'poison', 'three', 'four']) expect((await publishPost(bus.url, title)).status).toBe(201);

  await waitFor('the healthy subscriber to get all five', () => healthy.received.length === 5);
  await waitFor('the poisoned one to get the other four', () => poisoned.received.length === 4);
  expect(poisoned.received.map(titleOf)).toEqual(['one', 'two', 'three', 'four']);
  const parked = (await (await fetch(`${bus.url}/dead-letters`)).json()) as { subscriber: string; seq: number; attempts: number }[];
  expect(parked).toEqual([expect.objectContaining({ subscriber: poisoned.url, seq: 3, attempts: 4 })]);
  expect(bus.recentOutput()).toMatch(/parked it as a dead letter/);

  poisoned.stopRefusing();
  const retry = await fetch(`${bus.url}/dead-letters/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subscriber: poisoned.url }),
  });
  expect(retry.status).toBe(202);
  await waitFor('the parked event to arrive', () => poisoned.received.some((event) => titleOf(event) === 'poison'));
  expect(await (await fetch(`${bus.url}/dead-letters`)).json()).toEqual([]);

  await bus.stop('SIGTERM');
  await poisoned.close();
  await healthy.close();
});
