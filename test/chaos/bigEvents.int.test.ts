import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MAX_EVENT_BYTES } from '@blog/contracts';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { LocalSystem, type EngineName } from '../support/localSystem';
import { createPost, queryView } from '../support/blogApi';
import { waitFor } from '../support/waitFor';

/**
 * Large events cannot take the log down. Events just under the size limit, many of them, of a type
 * nobody owns (the operator may publish those), and larger ones a log holds from before the limit:
 * after them the services restart and come back ready with every event applied, the bus's memory stays
 * within its budget, reads stay paged, and the flow page keeps working.
 */
jest.setTimeout(300_000);

const NEAR_LIMIT = 600;
const OLD_LARGE = 20;
// Under NATS's own largest message (1 MiB by default).
const OLD_LARGE_BYTES = 900 * 1024;

/** An event of a type nobody owns whose stored envelope is just under MAX_EVENT_BYTES. */
const nearLimit = () => ({ id: randomUUID(), type: 'BulkNote', data: { note: 'x'.repeat(MAX_EVENT_BYTES - 400) } });

async function operatorPublish(system: LocalSystem, body: unknown) {
  return fetch(`${system.url('event-bus')}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${system.credentials!.tokens.operator}` }, body: JSON.stringify(body) });
}

/** Stores OLD_LARGE events of 1 MiB as a log written before the limit would hold them. */
async function storeOldLargeEvents(system: LocalSystem, engine: EngineName): Promise<void> {
  const body = (seq: number) => JSON.stringify({ specversion: '1.0', id: randomUUID(), source: '/operator', type: 'OldHugeNote', time: new Date().toISOString(), data: { note: 'y'.repeat(OLD_LARGE_BYTES) }, ...(seq > 0 ? { seq } : {}) });
  if (engine === 'embedded') {
    const bus = system.services['event-bus'];
    await bus.stop('SIGTERM');
    const db = new DatabaseSync(path.join(system.dataDir, 'events.db'));
    const last = (db.prepare('SELECT COALESCE(MAX(seq), 0) AS last FROM events').get() as { last: number }).last;
    const insert = db.prepare('INSERT INTO events (seq, source, id, type, body) VALUES (?, ?, ?, ?, ?)');
    for (let index = 1; index <= OLD_LARGE; index += 1) insert.run(last + index, '/operator', randomUUID(), 'OldHugeNote', body(last + index));
    db.close();
    await bus.start();
    return;
  }
  // NATS: the stream's limit lifted for a moment, as it was before there was one (the gateway's user may).
  const nc = await connect({ servers: system.nats[0]!.url, user: 'event-bus', pass: system.credentials!.gatewayPassword, timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.update('BLOG_EVENTS', { max_msg_size: -1 });
    const js = jetstream(nc);
    for (let index = 0; index < OLD_LARGE; index += 1) await js.publish('blog.events.OldHugeNote', body(0));
  } finally {
    await nc.close();
  }
}

describe.each<EngineName>(['embedded', 'nats'])('large events on the %s engine', (engine) => {
  let system: LocalSystem;
  beforeAll(async () => {
    system = await LocalSystem.create({}, { engine, credentials: true, client: true });
    await system.startAll();
  });
  afterAll(() => system?.stopAll());

  it('when a log holds many events just under the limit and larger ones from before it, then a restarted query comes back ready with every post applied, the bus stays within its memory, and the flow page still answers', async () => {
    const before = await createPost(system.url('posts'), 'before the flood');
    await storeOldLargeEvents(system, engine);
    for (let sent = 0; sent < NEAR_LIMIT; sent += 50) {
      const answer = await operatorPublish(system, Array.from({ length: 50 }, nearLimit));
      expect(answer.status).toBe(201);
    }
    const after = await createPost(system.url('posts'), 'after the flood');
    expect([before.status, after.status]).toEqual([201, 201]);

    // One byte over the limit is refused before anything is stored.
    const over = await operatorPublish(system, { type: 'BulkNote', data: { note: 'x'.repeat(MAX_EVENT_BYTES) } });
    expect(over.status).toBe(413);

    for (const name of ['query', 'posts'] as const) await system.services[name].restart();
    const view = await queryView(system.url('query'));
    expect(Object.values(view).map((post) => post.title)).toEqual(['before the flood', 'after the flood']);

    // Reads are pages of at most about 1 MiB however large the events.
    const page = await fetch(`${system.url('event-bus')}/events?after=0&limit=10000`, { headers: { authorization: `Bearer ${system.credentials!.tokens.query}` } });
    expect(page.status).toBe(200);
    expect((await page.text()).length).toBeLessThan(OLD_LARGE_BYTES + 64 * 1024);

    const flow = await fetch(`${system.url('client')}/flow/api/events?after=0`);
    expect(flow.status).toBe(200);
    await waitFor('the flow snapshot', async () => (await fetch(`${system.url('client')}/flow/api/snapshot`)).status === 200, { timeoutMs: 10_000 });

    const bus = system.services['event-bus'].usage();
    if (engine === 'embedded') expect(bus!.peakRssBytes).toBeLessThan(400 * 1024 * 1024);
    console.log(`${engine}: bus peak RSS ${Math.round(bus!.peakRssBytes / 1024 / 1024)} MiB after ${NEAR_LIMIT} events of ${MAX_EVENT_BYTES} bytes and ${OLD_LARGE} of 900 KiB`);
  });
});
