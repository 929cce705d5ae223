import { performance } from 'node:perf_hooks';
import { closedLoop, openLoop } from '../src/load';

/** Holds the event loop, as a busy load generator would. */
function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('the open loop', () => {
  it('when the load generator falls behind, then the delay counts in the latency of the requests that were due', async () => {
    // 100/s for 0.1 s: ten requests due 10 ms apart. The first send holds the loop for 60 ms, so the next
    // five are sent late; answering is instant, so any latency they show is the time they waited to leave.
    const samples = await openLoop(100, 0.1, async (index) => {
      if (index === 0) blockFor(60);
      return { status: 201 };
    });

    expect(samples).toHaveLength(10);
    expect(samples.every((s) => s.status === 201)).toBe(true);
    // Due at 10 ms, sent at ~60 ms or later.
    expect(samples[1]!.latencyMs).toBeGreaterThanOrEqual(40);
    expect(samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('when a send throws, then the sample is counted with status 0 instead of ending the run', async () => {
    const samples = await openLoop(200, 0.02, async (index) => {
      if (index === 1) throw new Error('connection refused');
      return { status: 201, value: `id-${index}` };
    });
    expect(samples.map((s) => s.status)).toEqual([201, 0, 201, 201]);
    expect(samples[0]!.value).toBe('id-0');
  });
});

describe('the closed loop', () => {
  it('when clients send, then every index is sent once, never more at a time than the concurrency', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const samples = await closedLoop(25, 4, async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
      return { status: 201 };
    });
    expect(samples.map((s) => s.index)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(mostInFlight).toBe(4);
  });
});
