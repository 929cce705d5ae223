import { ApiError } from '../src/api';
import { sendUntilAnswered, waitingReason, type RetryPolicy } from '../src/retryingWrite';

const policy: RetryPolicy = { giveUpAfterMs: 10_000, firstWaitMs: 500, maxWaitMs: 2_000 };

/** A clock the sleeps move forward, so a minute of retries takes no time. */
function fakeClock() {
  let now = 0;
  const waits: number[] = [];
  return { waits, now: () => now, sleep: async (ms: number) => void (waits.push(ms), (now += ms)) };
}

describe('sendUntilAnswered', () => {
  it('when a write fails with 503, 502, 504, 409 or no answer, then it is sent again with doubling waits until it is answered', async () => {
    const clock = fakeClock();
    const failures = [
      new ApiError('unavailable', 503, 'down'),
      new ApiError('unavailable', 502, 'connection lost'),
      new ApiError('unavailable', null, 'cannot reach the server'),
      new ApiError('unknown-outcome', 504, 'no answer'),
      new ApiError('in-flight', 409, 'still being handled'),
    ];
    const reasons: string[] = [];
    const send = jest.fn(async () => {
      const failure = failures.shift();
      if (failure) throw failure;
      return 'saved';
    });

    await expect(sendUntilAnswered(send, { policy, ...clock, onWaiting: (reason) => reasons.push(reason) })).resolves.toBe('saved');

    expect(send).toHaveBeenCalledTimes(6);
    expect(clock.waits).toEqual([500, 1_000, 2_000, 2_000, 2_000]);
    expect(reasons).toHaveLength(5);
  });

  it('when the failures outlast the policy, then the last one is thrown', async () => {
    const clock = fakeClock();
    const send = jest.fn(async () => {
      throw new ApiError('unavailable', 503, 'down');
    });
    await expect(sendUntilAnswered(send, { policy, ...clock, onWaiting: () => undefined })).rejects.toMatchObject({ status: 503 });
    expect(clock.now()).toBeLessThanOrEqual(policy.giveUpAfterMs);
    expect(send.mock.calls.length).toBeGreaterThan(4);
  });

  it.each([
    ['400', new ApiError('validation', 400, 'bad')],
    ['404', new ApiError('not-found', 404, 'no post')],
    ['422', new ApiError('other', 422, 'key used for another request')],
    ['a programming error', new TypeError('oops')],
  ])('when it fails with %s, then it is not sent again', async (_name, error) => {
    const clock = fakeClock();
    const send = jest.fn(async () => {
      throw error;
    });
    await expect(sendUntilAnswered(send, { policy, ...clock, onWaiting: () => undefined })).rejects.toBe(error);
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe('waitingReason', () => {
  it('when the client server knows the service and its state, then both are said; otherwise what is known', () => {
    expect(waitingReason(new ApiError('unavailable', 503, 'x', [], { name: 'comments', state: 'stopped' }), 2_000)).toBe(
      'Waiting for the comments service (stopped); trying again in 2 s.',
    );
    expect(waitingReason(new ApiError('unavailable', 503, 'x', [], { name: 'posts', state: null }), 500)).toBe('Waiting for the posts service; trying again in 1 s.');
    expect(waitingReason(new ApiError('in-flight', 409, 'x'), 1_000)).toBe('The first attempt is still being handled; trying again in 1 s.');
    expect(waitingReason(new ApiError('unavailable', null, 'cannot reach the server: check your connection'), 4_000)).toBe(
      'Not saved yet: cannot reach the server: check your connection; trying again in 4 s.',
    );
  });
});
