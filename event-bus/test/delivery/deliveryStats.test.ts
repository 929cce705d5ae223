import { DeliveryStats } from '../../src/delivery/deliveryStats';
import { recordingLogger } from './recordingLogger';
import { recordingObserver } from './recordingObserver';

const url = 'http://sub/events';

describe('DeliveryStats', () => {
  it('when deliveries succeed, then they are counted with their events and the time, and the observer hears of each', () => {
    const observer = recordingObserver();
    const stats = new DeliveryStats({ subscriber: url, logger: recordingLogger().logger, observer });

    stats.delivered(3, new Date('2026-01-01T00:00:00Z'));
    stats.delivered(2, new Date('2026-01-01T00:00:05Z'));

    expect(stats.snapshot()).toEqual({
      consecutiveFailures: 0,
      deliveries: 2,
      eventsDelivered: 5,
      failures: 0,
      lastError: null,
      lastSuccessAt: '2026-01-01T00:00:05.000Z',
    });
    expect(observer.calls).toEqual([`delivered ${url} 3`, `delivered ${url} 2`]);
  });

  it('when an outage lasts, then every failure is counted but only the first and every tenth is logged', () => {
    const { logger, lines } = recordingLogger();
    const observer = recordingObserver();
    const stats = new DeliveryStats({ subscriber: url, logger, observer });

    for (let i = 0; i < 25; i += 1) {
      stats.failed(`ECONNREFUSED ${i}`, 7);
      stats.backedOff();
    }

    expect(lines.map((line) => line.reason)).toEqual(['ECONNREFUSED 0', 'ECONNREFUSED 10', 'ECONNREFUSED 20']);
    expect(lines[0]).toMatchObject({ subscriber: url, position: 7, msg: 'delivery failed; will retry' });
    expect(stats.snapshot()).toMatchObject({ consecutiveFailures: 25, failures: 25, lastError: 'ECONNREFUSED 24' });
    expect(observer.calls.filter((call) => call.startsWith('failed'))).toHaveLength(25);
  });

  it('when the loop moves on, then the failures in a row start again and the total stays', () => {
    const stats = new DeliveryStats({ subscriber: url, logger: recordingLogger().logger });
    stats.backedOff();
    stats.backedOff();

    stats.movedOn();

    expect(stats.consecutiveFailures).toBe(0);
    expect(stats.snapshot().failures).toBe(2);
  });
});
