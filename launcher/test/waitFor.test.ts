import { waitFor } from '../src/waitFor';

describe('waitFor', () => {
  it('when the check passes after a few tries, then it answers the value the check returned', async () => {
    let tries = 0;

    const value = await waitFor('the third try', () => (++tries >= 3 ? { tries } : false), { intervalMs: 1 });

    expect(value).toEqual({ tries: 3 });
  });

  it('when the check never passes, then it fails after the deadline, naming what it waited for and the last error', async () => {
    const never = waitFor(
      'a bus that is not there',
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 30, intervalMs: 5 },
    );

    await expect(never).rejects.toThrow(
      'timed out after 30 ms waiting for a bus that is not there (last error: connection refused)',
    );
  });
});
