import { Wakeup } from '../../src/store/eventLog';

describe('Wakeup', () => {
  it('when woken, then a wait or a sleep ends at once, and the wake is counted', async () => {
    const wakeup = new Wakeup();
    const waiting = wakeup.wait();
    wakeup.wakeUp();
    await waiting;

    const started = Date.now();
    const sleeping = wakeup.sleep(10_000);
    wakeup.wakeUp();
    await sleeping;

    expect(Date.now() - started).toBeLessThan(1000);
    expect(wakeup.generation).toBe(2);
  });

  it('when nothing wakes it, then a sleep ends after its time', async () => {
    const started = Date.now();
    await new Wakeup().sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('when closed, then the wait under way ends and later ones do not wait', async () => {
    const wakeup = new Wakeup();
    const waiting = wakeup.wait();

    wakeup.close();

    await waiting;
    await wakeup.wait();
    await wakeup.sleep(60_000);
  });
});
