import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryEngine, ServerNotAnsweringError, type EventHandlers } from '@blog/contracts';
import { EventReceiver, FeedWatch, Lifecycle } from '../src';
import { postCreated } from '../../test/support/factories';
import { silentLogger } from '../../test/support/silentLogger';
import { waitFor } from '../../test/support/waitFor';

/** A log that can refuse reads (the replica cannot catch up) or every question (nothing reachable). */
class SwitchableLog extends MemoryEngine {
  readsFail = false;
  unreachable = false;
  /** Its own server hangs (answers no ping): what the NATS engine says then. */
  hung = false;
  override async read(after: number, limit: number) {
    if (this.readsFail || this.unreachable) throw new Error('read timed out');
    return super.read(after, limit);
  }
  override async feedPosition() {
    if (this.hung) throw new ServerNotAnsweringError('its NATS server answers no ping');
    if (this.unreachable) throw new Error('no server answers');
    return super.feedPosition();
  }
}

const applyPosts: EventHandlers = { applies: ['PostCreated'], apply: () => undefined, reactsTo: [] };
const GRACE_MS = 600;

const watches: FeedWatch[] = [];
afterEach(() => watches.splice(0).forEach((watch) => watch.stop()));

/** A caught-up replica of a service that keeps state, with no live feed: nothing brings it new events but its own reads. */
async function replicaOf(engine: SwitchableLog) {
  const lifecycle = new Lifecycle();
  const receiver = new EventReceiver({ engine, handlers: applyPosts, lifecycle, logger: silentLogger });
  await receiver.catchUp();
  lifecycle.markReady();
  const watch = new FeedWatch(engine, receiver, null, silentLogger, GRACE_MS);
  lifecycle.watchProblems(() => watch.problem());
  watch.start();
  watches.push(watch);
  return { lifecycle, receiver, watch };
}

/** A replica at seq 1 that cannot read while the log takes three more events, once it says it is behind. */
async function replicaBehind() {
  const engine = new SwitchableLog();
  await engine.publish(postCreated());
  const replica = await replicaOf(engine);
  engine.readsFail = true;
  for (let index = 0; index < 3; index += 1) await engine.publish(postCreated());
  await waitFor('the replica to be behind', () => replica.lifecycle.problem?.status === 'behind', { timeoutMs: 5_000 });
  return { engine, ...replica };
}

describe('FeedWatch', () => {
  it('when the log moves on and the replica cannot follow, then after the grace it is not ready and says what it waits for; once it can read, it catches up by itself and is ready again', async () => {
    const { engine, lifecycle, receiver, watch } = await replicaBehind();
    expect(lifecycle.isReady).toBe(false);
    expect(lifecycle.problem!.problems[0]).toMatch(/it has applied the log up to seq 1, but the log already held seq 4 0\.\d s ago/);

    engine.readsFail = false;
    await waitFor('the replica to catch up by itself', () => receiver.position === 4, { timeoutMs: 5_000 });
    await waitFor('the replica to be ready again', () => lifecycle.isReady, { timeoutMs: 5_000 });
    expect(watch.state()).toEqual({ state: 'following' });
  });

  it('when the replica keeps up, then it stays ready however the log grows', async () => {
    const engine = new SwitchableLog();
    const { lifecycle, receiver } = await replicaOf(engine);

    const until = Date.now() + 2 * GRACE_MS + 1_000;
    while (Date.now() < until) {
      await engine.publish(postCreated());
      await receiver.catchUp();
      expect(lifecycle.isReady).toBe(true);
      await sleep(50);
    }
  });

  it('when nothing can reach the log, then the replica stays ready, serving what it holds, and says the log is out of reach', async () => {
    const engine = new SwitchableLog();
    await engine.publish(postCreated());
    const { lifecycle, watch } = await replicaOf(engine);
    engine.unreachable = true;

    await waitFor('the log to be reported out of reach', () => watch.state().state === 'unreachable', { timeoutMs: 6_000 });
    expect(lifecycle.isReady).toBe(true);
    expect(watch.state()).toMatchObject({ detail: expect.stringMatching(/out of reach since .*no server answers.*serving the view as of seq 1/) });
  });

  it('when its looks stop for longer than the grace (its event loop stalled), then a replica that lacks what its last look saw is still not ready', async () => {
    const { lifecycle, watch } = await replicaBehind();

    // No look is taken while the timer does not fire; the last one still says the log held seq 4.
    watch.stop();
    await sleep(GRACE_MS + 300);
    expect(watch.state()).toMatchObject({ state: 'behind', detail: expect.stringMatching(/applied the log up to seq 1, but the log already held seq 4/) });
    expect(lifecycle.isReady).toBe(false);
  });

  it('when its own server hangs and then its connection drops, then it stays not ready until it reaches the log again, never ready while it lacks what the log holds', async () => {
    const engine = new SwitchableLog();
    await engine.publish(postCreated());
    const { lifecycle, watch } = await replicaOf(engine);
    engine.hung = true;
    await waitFor('the hung server to be reported', () => watch.state().state === 'behind', { timeoutMs: 6_000 });

    // The client leaves the hung server: now the engine says it is out of reach, not that a server hangs.
    engine.hung = false;
    engine.unreachable = true;
    await sleep(1_500);
    expect(watch.state().state).toBe('behind');
    expect(lifecycle.isReady).toBe(false);

    engine.unreachable = false;
    await waitFor('the replica to follow the log again', () => watch.state().state === 'following', { timeoutMs: 6_000 });
    expect(lifecycle.isReady).toBe(true);
  });

  it('when its own server hangs for longer than the grace while the log grows, then once it reaches the log again it is not ready until it holds what the log held then', async () => {
    const engine = new SwitchableLog();
    await engine.publish(postCreated());
    const { lifecycle, receiver, watch } = await replicaOf(engine);
    engine.hung = true;
    engine.readsFail = true;
    for (let index = 0; index < 3; index += 1) await engine.publish(postCreated());
    await waitFor('the hung server to be reported', () => watch.state().state === 'behind', { timeoutMs: 6_000 });

    // Its client reaches a server again, but its feed is not made again yet: what the log took during
    // the hang is more than the grace old by now, and the replica lacks it.
    engine.hung = false;
    let readyLooks = 0;
    const until = Date.now() + 3 * GRACE_MS;
    while (Date.now() < until) {
      if (lifecycle.isReady) readyLooks += 1;
      await sleep(20);
    }
    expect(readyLooks).toBe(0);
    expect(lifecycle.problem!.problems[0]).toMatch(/it has applied the log up to seq 1, but the log already held seq 4/);

    engine.readsFail = false;
    await waitFor('the replica to catch up and be ready', () => receiver.position === 4 && lifecycle.isReady, { timeoutMs: 5_000 });
  });
});
