import fs from 'node:fs';
import path from 'node:path';
import { NatsEngine } from '@blog/service-kit';
import { natsCluster, type NatsNode } from '../support/localSystem';
import { postCreated } from '../support/factories';
import { silentLogger } from '../support/silentLogger';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';

/**
 * Damage to one NATS server's store while it is down, the NATS engine's counterpart of the embedded
 * bus's damaged log: with three copies of the stream (infra/scale), the damaged server must come back
 * with every event from its peers, and the log must read whole and go on from where it was.
 */
type StoreDamage = 'deleted' | 'truncated' | 'overwritten';
const EVENTS = 300;

afterAll(() => removeTempDirs());

/** The stream as one server holds it, from its monitoring port. */
async function streamOn(node: NatsNode): Promise<{ messages: number; last_seq: number } | undefined> {
  const response = await fetch(`http://127.0.0.1:${node.ports.monitor}/jsz?streams=true`);
  const jsz = (await response.json()) as { account_details?: { stream_detail?: { name: string; state: { messages: number; last_seq: number } }[] }[] };
  return jsz.account_details?.flatMap((account) => account.stream_detail ?? []).find((stream) => stream.name === 'BLOG_EVENTS')?.state;
}

function blockFiles(storeDir: string): string[] {
  const msgs = path.join(storeDir, 'jetstream', '$G', 'streams', 'BLOG_EVENTS', 'msgs');
  return fs.existsSync(msgs) ? fs.readdirSync(msgs).filter((name) => name.endsWith('.blk')).map((name) => path.join(msgs, name)) : [];
}

function damage(storeDir: string, kind: StoreDamage): void {
  if (kind === 'deleted') {
    fs.rmSync(path.join(storeDir, 'jetstream'), { recursive: true, force: true });
    return;
  }
  const blocks = blockFiles(storeDir);
  expect(blocks.length).toBeGreaterThan(0);
  for (const block of blocks) {
    const size = fs.statSync(block).size;
    if (kind === 'truncated') fs.truncateSync(block, Math.floor(size / 2));
    else {
      const fd = fs.openSync(block, 'r+');
      fs.writeSync(fd, Buffer.alloc(Math.min(4096, Math.floor(size / 4)), 0xab), 0, Math.min(4096, Math.floor(size / 4)), Math.floor(size / 3));
      fs.closeSync(fd);
    }
  }
}

describe("damage to a NATS server's store (three copies of the stream)", () => {
  it.each<StoreDamage>(['deleted', 'truncated', 'overwritten'])(
    "when one server's store is %s while it is down, then it comes back with every event from its peers, and the log reads whole and goes on from its end",
    async (kind) => {
      const dir = makeTempDir(`nats-damage-${kind}-`);
      const nodes = await natsCluster(3, dir);
      const engine = new NatsEngine({
        servers: nodes.map((node) => node.url),
        name: 'damage-test',
        source: '/posts',
        replicas: 3,
        dedupeWindowMs: 60_000,
        timeoutMs: 2_000,
        publishWaitMs: 15_000,
        reactions: { ackWaitMs: 1_000, maxDeliveries: 3, retryMaxMs: 500, inFlight: 8 },
        logger: silentLogger,
      });
      try {
        await Promise.all(nodes.map((node) => node.start()));
        for (let sent = 0; sent < EVENTS; sent += 50) await Promise.all(Array.from({ length: 50 }, () => engine.publish(postCreated())));
        await waitFor('every server to hold every event', async () => (await Promise.all(nodes.map(streamOn))).every((state) => state?.messages === EVENTS), { timeoutMs: 20_000 });

        const victim = nodes[2]!;
        await victim.stop('SIGKILL');
        damage(path.join(dir, 'nats-3'), kind);
        await victim.start();

        await waitFor(`the damaged server to hold all ${EVENTS} events again`, async () => {
          const state = await streamOn(victim);
          return state?.messages === EVENTS && state.last_seq === EVENTS;
        }, { timeoutMs: 60_000, intervalMs: 250 });
        const log = await engine.read(0, 10_000);
        expect(log.map((entry) => entry.seq)).toEqual(Array.from({ length: EVENTS }, (_, index) => index + 1));
        expect((await engine.publish(postCreated())).seq).toBe(EVENTS + 1);
      } finally {
        await engine.close();
        await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
      }
    },
  );
});
