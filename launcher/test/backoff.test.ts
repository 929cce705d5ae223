import { CrashLoopBackOff, LOCAL_BACKOFF } from '../src/supervisor/backoff';

describe('CrashLoopBackOff', () => {
  it('when a process keeps crashing at start, then each wait doubles from 0.5 s up to 10 s', () => {
    const backoff = new CrashLoopBackOff();

    const waits = Array.from({ length: 8 }, () => backoff.next(0));

    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
  });

  it('when a process was ready long enough before it crashed, then the count starts over', () => {
    const backoff = new CrashLoopBackOff();
    for (let i = 0; i < 5; i += 1) backoff.next(0);

    expect(backoff.next(LOCAL_BACKOFF.resetAfterMs)).toBe(500);
    expect(backoff.next(0)).toBe(1_000);
  });

  it('when a process was ready only briefly, then the waits keep growing', () => {
    const backoff = new CrashLoopBackOff();
    backoff.next(0);

    expect(backoff.next(LOCAL_BACKOFF.resetAfterMs - 1)).toBe(1_000);
  });

  it('when a process has crashed a very long time, then the wait stays at the cap', () => {
    const backoff = new CrashLoopBackOff({ initialMs: 1, maxMs: 50, resetAfterMs: 1_000 });

    for (let i = 0; i < 2_000; i += 1) backoff.next(0);

    expect(backoff.next(0)).toBe(50);
  });
});
