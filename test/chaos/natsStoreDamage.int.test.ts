import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NatsEngine, type StreamRepairReport } from '@blog/service-kit';
import { LocalSystem, SERVICE_NAMES, natsCluster, startNatsCluster, type NatsNode } from '../support/localSystem';
import { commentsInView, createComment, createPost, queryView } from '../support/blogApi';
import { postCreated } from '../support/factories';
import { silentLogger } from '../support/silentLogger';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';
import { waitFor } from '../support/waitFor';

/**
 * Damage to a NATS server's store while it is down, the NATS engine's counterpart of the embedded bus's
 * damaged log. With three copies of the stream (infra/scale), the damaged server must come back with
 * every event from its peers, and the log must read whole and go on from where it was. With one server
 * (`npm run start:nats`) nothing can bring the events back: the damage must be reported, not passed on.
 */
type StoreDamage = 'deleted' | 'truncated' | 'overwritten';
const EVENTS = 300;
const ROOT = path.resolve(__dirname, '..', '..');
const NATS_REPAIR = path.join(ROOT, 'event-bus', 'dist', 'natsRepair.js');

jest.setTimeout(180_000);

afterAll(() => removeTempDirs());

/** The stream as one server holds it, from its monitoring port. */
async function streamOn(node: NatsNode): Promise<{ messages: number; last_seq: number } | undefined> {
  const response = await fetch(`http://127.0.0.1:${node.ports.monitor}/jsz?streams=true`);
  const jsz = (await response.json()) as { account_details?: { stream_detail?: { name: string; state: { messages: number; last_seq: number } }[] }[] };
  return jsz.account_details?.flatMap((account) => account.stream_detail ?? []).find((stream) => stream.name === 'BLOG_EVENTS')?.state;
}

function engineOn(servers: string[], name: string): NatsEngine {
  return new NatsEngine({
    servers,
    name,
    source: '/posts',
    replicas: servers.length,
    dedupeWindowMs: 60_000,
    timeoutMs: 2_000,
    publishWaitMs: 15_000,
    reactions: { ackWaitMs: 1_000, maxDeliveries: 3, retryMaxMs: 500, inFlight: 8 },
    logger: silentLogger,
  });
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
      const engine = engineOn(nodes.map((node) => node.url), 'damage-test');
      try {
        await startNatsCluster(nodes);
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
        // Healed, so not taken for damage: no false alarm from the check that guards a single server.
        expect(engine.problem()).toBeNull();
        expect((await engine.publish(postCreated())).seq).toBe(EVENTS + 1);
      } finally {
        await engine.close();
        await Promise.all(nodes.map((node) => node.stop('SIGTERM')));
      }
    },
  );
});

const readyzOf = async (url: string) => {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; problems?: string[]; action?: string } };
};

/**
 * How a single server's store is damaged, and how the server was stopped before: nats-server 2.10.27
 * comes back from these in two shapes (docs/RELIABILITY.md): with holes (after a clean stop, its index
 * remembers the end), or with its end moved back (after SIGKILL), and once, overwritten after a clean
 * stop, whole-looking until its first write is handed a seq it had handed out before.
 */
const SINGLE_SERVER_DAMAGE: [StoreDamage | 'blocks deleted', NodeJS.Signals][] = [
  ['truncated', 'SIGKILL'],
  ['overwritten', 'SIGKILL'],
  ['truncated', 'SIGTERM'],
  ['overwritten', 'SIGTERM'],
  ['blocks deleted', 'SIGTERM'],
];

describe("damage to a single NATS server's store (no peer to heal from)", () => {
  // A store deleted whole takes the consumers' positions with it: nothing is left to tell it from a new one.
  it.each(SINGLE_SERVER_DAMAGE)('when its blocks are %s while it is down (stopped with %s), then no service passes it on silently: each says so and refuses writes; npm run nats:repair keeps what is left, names what was lost, and the blog goes on', async (kind, stopSignal) => {
    const system = await LocalSystem.create({}, { engine: 'nats' });
    const saveDir = makeTempDir('nats-repair-');
    const reader = engineOn([system.nats[0]!.url], 'damage-reader');
    try {
      await system.startAll();
      const post = await createPost(system.url('posts'), 'Disks fail');
      expect(post.status).toBe(201);
      for (let index = 0; index < 30; index += 1) {
        const written = await createComment(system.url('comments'), post.body.id, index % 5 === 0 ? `an orange ${index}` : `comment ${index}`);
        expect(written.status).toBe(201);
      }
      await waitFor('every comment moderated', async () => {
        const comments = [...commentsInView(await queryView(system.url('query'))).values()];
        return comments.length === 30 && comments.every((comment) => comment.status !== 'pending');
      }, { timeoutMs: 30_000 });
      const before = await reader.read(0, 10_000);
      await reader.close();

      for (const name of SERVICE_NAMES) await system.services[name].stop('SIGKILL');
      await system.nats[0]!.stop(stopSignal);
      if (kind === 'blocks deleted') for (const block of blockFiles(path.join(system.dataDir, 'nats-1'))) fs.rmSync(block);
      else damage(path.join(system.dataDir, 'nats-1'), kind);
      await system.nats[0]!.start();
      for (const name of SERVICE_NAMES) await system.services[name].start({ until: 'alive' });

      // Either the damage shows at once, or the first write is handed a seq already used, which shows it.
      const readiness = await waitFor('every service to have looked at the stream', async () => {
        const answers = await Promise.all(SERVICE_NAMES.map(async (name) => (await readyzOf(system.url(name))).body.status));
        return answers.every((status) => status === 'damaged' || status === 'ready') ? answers : undefined;
      }, { timeoutMs: 30_000 });
      const written = await createPost(system.url('posts'), 'written onto a damaged log');
      const damagedAtStart = readiness.every((status) => status === 'damaged');
      // Refused with nothing stored (503), or stored at a reused seq, which only the repair can keep (504).
      expect(written.status).toBe(damagedAtStart ? 503 : 504);
      expect(JSON.stringify(written.body)).toContain('npm run nats:repair');
      console.log(`${kind} (${stopSignal}): ${damagedAtStart ? 'damage reported at start' : 'whole-looking until the first write, answered 504'}`);

      // Every service, the gateway included, is alive and not ready, and says why and what to do.
      for (const name of SERVICE_NAMES) {
        await waitFor(`${name} to report the damage`, async () => (await readyzOf(system.url(name))).body.status === 'damaged', { timeoutMs: 30_000 });
        const { status, body } = await readyzOf(system.url(name));
        expect(status).toBe(503);
        expect(body.problems?.join(' ')).toMatch(/ends at seq \d+, but .* seq \d+: \d+ acknowledged events are gone|\d+ are missing, and nothing ever deletes from it/);
        expect(body.action).toContain('npm run nats:repair');
      }
      expect((await createPost(system.url('posts'), 'written onto a damaged log, again')).status).toBe(503);

      const run = spawnSync(process.execPath, [NATS_REPAIR, '--json', '--save-dir', saveDir], {
        env: { ...process.env, NATS_URL: system.nats[0]!.url },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const report = JSON.parse(run.stdout) as StreamRepairReport;
      if (report.outcome !== 'repaired') throw new Error(`the repair found nothing to repair: ${run.stdout}`);
      console.log(`${kind} (${stopSignal}): ${before.length} events before; lost ${report.lostCount} (seq ${report.lost.map((range) => `${range.first}-${range.last}`).join(', ')}), kept ${report.kept}`);
      expect(report.lostCount).toBeGreaterThan(0);
      const end = report.nextSeq - report.kept - 1;
      // Every seq up to the old end is either kept or named lost, and the kept ones moved past all of them.
      expect(report.kept + report.lostCount).toBe(end);
      expect(end).toBeLessThanOrEqual(before.length + 1);
      if (report.movedTo) expect(report.movedTo.first).toBe(end + 1);
      expect(fs.readFileSync(report.savedTo, 'utf8').split('\n').filter(Boolean)).toHaveLength(report.kept);

      // The services were waiting, not crashed: they take the repaired stream up by themselves.
      for (const name of SERVICE_NAMES) await waitFor(`${name} ready again`, async () => (await readyzOf(system.url(name))).status === 200, { timeoutMs: 60_000 });
      const afterReader = engineOn([system.nats[0]!.url], 'damage-reader-after');
      try {
        const after = await afterReader.read(0, 10_000);
        const isLost = (seq: number) => report.lost.some((range) => seq >= range.first && seq <= range.last);
        const keptIds = before.filter((entry) => !isLost(entry.seq) && entry.seq <= end).map((entry) => entry.id);
        // The kept events in their order; with a reused seq, the write that was handed it after them.
        expect(after.slice(0, keptIds.length).map((entry) => entry.id)).toEqual(keptIds);
        expect(report.kept - keptIds.length).toBe(damagedAtStart ? 0 : 1);

        // The view is what the kept events say, with every kept comment decided (a lost verdict is given again).
        const keptComments = new Set(after.filter((entry) => entry.type === 'CommentCreated').map((entry) => (entry.data as { id: string }).id));
        await waitFor('the view to hold the kept comments, each decided', async () => {
          const comments = commentsInView(await queryView(system.url('query')));
          return comments.size === keptComments.size && [...comments.entries()].every(([id, comment]) => keptComments.has(id) && comment.status !== 'pending');
        }, { timeoutMs: 30_000 });

        // And the blog goes on: a new comment gets its verdict, at seqs past every seq handed out before.
        const fresh = await createPost(system.url('posts'), 'after the repair');
        const comment = await createComment(system.url('comments'), fresh.body.id, 'written after the repair');
        expect([fresh.status, comment.status]).toEqual([201, 201]);
        await waitFor('the new comment moderated', async () => commentsInView(await queryView(system.url('query'))).get(comment.body.id)?.status === 'approved', { timeoutMs: 30_000 });
        const newest = await afterReader.read(end + report.kept, 100);
        expect(newest.some((entry) => entry.type === 'CommentCreated' && (entry.data as { id: string }).id === comment.body.id)).toBe(true);
      } finally {
        await afterReader.close();
      }
    } finally {
      await reader.close();
      await system.stopAll();
    }
  });
});

describe('a single NATS server whose store looks whole until it is written to', () => {
  it('when its blocks were overwritten after a clean stop, then the first publish shows the damage: handed a seq already used it answers outcome unknown, or the next look finds the holes; then the engine reports it and refuses writes', async () => {
    const dir = makeTempDir('nats-reuse-');
    const [node] = await natsCluster(1, dir);
    let engine = engineOn([node!.url], 'reuse-test');
    try {
      await node!.start();
      for (let sent = 0; sent < EVENTS; sent += 50) await Promise.all(Array.from({ length: 50 }, () => engine.publish(postCreated())));
      await engine.close();
      await node!.stop('SIGTERM');
      damage(path.join(dir, 'nats-1'), 'overwritten');
      await node!.start();

      // Nothing reads the stream first: it still says it holds all its events.
      expect(await streamOn(node!)).toMatchObject({ messages: EVENTS, last_seq: EVENTS });
      engine = engineOn([node!.url], 'reuse-test-after');
      expect(engine.problem()).toBeNull();
      const first = await engine.publish(postCreated()).then(
        (receipt) => `stored at seq ${receipt.seq}`,
        (error: { name: string; reason: string }) => {
          expect(error).toMatchObject({ name: 'EngineOutcomeUnknownError', reason: expect.stringMatching(/handed this event seq \d+, which it had handed out before: the log is damaged/) });
          return 'handed a seq already used: outcome unknown';
        },
      );
      console.log(`overwritten after a clean stop, the first publish: ${first}`);

      await waitFor('the engine to report the damage', () => engine.problem()?.status === 'damaged', { timeoutMs: 15_000 });
      expect(engine.problem()!.problems.join(' ')).toMatch(/but this process saw it reach seq \d+|are missing, and nothing ever deletes from it/);
      await expect(engine.publish(postCreated())).rejects.toMatchObject({ name: 'StreamDamagedError', reason: expect.stringContaining('npm run nats:repair') });
    } finally {
      await engine.close();
      await node!.stop('SIGTERM');
    }
  });
});
