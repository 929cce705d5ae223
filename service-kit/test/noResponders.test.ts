import { retryingNoResponders } from '../src/engines/nats/reader';

/** The client's error for a pull that bounced (nats.js names it so; its class is not exported). */
function statusError(code: number): Error {
  const error = new Error(code === 503 ? 'no responders' : 'request timeout') as Error & { code: number };
  error.name = 'JetStreamStatusError';
  error.code = code;
  return error;
}

describe('retryingNoResponders', () => {
  it('when a read bounces with no responders and then succeeds, then its result is answered', async () => {
    let calls = 0;
    const read = async () => {
      calls += 1;
      if (calls < 3) throw statusError(503);
      return 'page';
    };

    await expect(retryingNoResponders(read)).resolves.toBe('page');
    expect(calls).toBe(3);
  });

  it('when every attempt bounces, then the last error is thrown after a bounded number of tries', async () => {
    let calls = 0;
    const read = async () => {
      calls += 1;
      throw statusError(503);
    };

    await expect(retryingNoResponders(read)).rejects.toThrow('no responders');
    expect(calls).toBe(4);
  });

  it('when a read fails another way, then it is not tried again', async () => {
    let calls = 0;
    const read = async () => {
      calls += 1;
      throw statusError(408);
    };

    await expect(retryingNoResponders(read)).rejects.toThrow('request timeout');
    expect(calls).toBe(1);
  });
});
