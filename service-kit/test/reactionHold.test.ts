import type { Delivered } from '@blog/contracts';
import { ReactionHold } from '../src/reactionHold';
import { commentCreated } from '../../test/support/factories';

/** MODERATION_DELAY_MS on either engine: each event waits from its first arrival, and a redelivery only what is left. */

function deliveredAs(id: string): Delivered {
  return { event: commentCreated('post-1'), context: { id } };
}

/** Jest's fake timers move the global setTimeout and Date, not node:timers/promises. */
const fakeClock = { now: () => Date.now(), sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** Runs `wait` and reports whether it has resolved after the fake clock has moved `ms`. */
async function resolvedAfter(waiting: Promise<void>, ms: number): Promise<boolean> {
  let done = false;
  void waiting.then(() => (done = true));
  await jest.advanceTimersByTimeAsync(ms);
  return done;
}

describe('a reaction hold', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('when the hold is 0, then events may be reacted to at once', async () => {
    expect(await resolvedAfter(new ReactionHold(0, fakeClock).wait([deliveredAs('a')]), 0)).toBe(true);
  });

  it('when an event arrives, then it may be reacted to only once the hold has passed', async () => {
    const hold = new ReactionHold(1_000, fakeClock);
    const waiting = hold.wait([deliveredAs('a')]);

    expect(await resolvedAfter(waiting, 999)).toBe(false);
    expect(await resolvedAfter(waiting, 1)).toBe(true);
  });

  it('when a held event is delivered again (the bus gave up on it), then the second delivery waits only what was left', async () => {
    const hold = new ReactionHold(1_000, fakeClock);
    void hold.wait([deliveredAs('a')]);
    await jest.advanceTimersByTimeAsync(700);

    const again = hold.wait([deliveredAs('a')]);

    expect(await resolvedAfter(again, 299)).toBe(false);
    expect(await resolvedAfter(again, 1)).toBe(true);
  });

  it('when a batch holds an event that came before and one that is new, then the batch waits for the new one', async () => {
    const hold = new ReactionHold(1_000, fakeClock);
    void hold.wait([deliveredAs('a')]);
    await jest.advanceTimersByTimeAsync(700);

    const batch = hold.wait([deliveredAs('a'), deliveredAs('b')]);

    expect(await resolvedAfter(batch, 999)).toBe(false);
    expect(await resolvedAfter(batch, 1)).toBe(true);
  });

  it('when another event arrives after one was reacted to, then it waits the whole hold', async () => {
    const hold = new ReactionHold(1_000, fakeClock);
    await resolvedAfter(hold.wait([deliveredAs('a')]), 1_000);

    expect(await resolvedAfter(hold.wait([deliveredAs('b')]), 999)).toBe(false);
  });

  it('when an event comes back long after its hold (past what is remembered), then it waits the whole hold again and old arrivals are forgotten', async () => {
    const hold = new ReactionHold(1_000, fakeClock);
    await resolvedAfter(hold.wait([deliveredAs('a')]), 1_000);
    await jest.advanceTimersByTimeAsync(61_000);

    expect(await resolvedAfter(hold.wait([deliveredAs('a')]), 999)).toBe(false);
  });
});
