import { Refusals } from '../../src/delivery/batchSender';

describe('Refusals', () => {
  it('when a batch of several is refused, then the events after the position go one at a time until past its end', () => {
    const refusals = new Refusals({ batchSize: 50, maxAttempts: 3 });

    expect(refusals.refused(4, 14)).toEqual({ action: 'narrow' });

    expect(refusals.batchLimit(10)).toBe(1);
    expect(refusals.batchLimit(13)).toBe(1);
    expect(refusals.batchLimit(14)).toBe(50);
    expect(refusals.any).toBe(false);
  });

  it('when one event is refused maxAttempts times in a row, then it is to be parked with that count, and the count starts again', () => {
    const refusals = new Refusals({ batchSize: 10, maxAttempts: 3 });

    expect(refusals.refused(1, 5)).toEqual({ action: 'retry' });
    expect(refusals.any).toBe(true);
    expect(refusals.refused(1, 5)).toEqual({ action: 'retry' });
    expect(refusals.refused(1, 5)).toEqual({ action: 'park', attempts: 3 });
    expect(refusals.any).toBe(false);
  });

  it('when the event goes through in between, then the refusals before it no longer count', () => {
    const refusals = new Refusals({ batchSize: 10, maxAttempts: 2 });

    refusals.refused(1, 5);
    refusals.reset();

    expect(refusals.refused(1, 6)).toEqual({ action: 'retry' });
  });
});
