import type { DeliveryObserver } from '../../src/delivery/deliveryStats';

/** Every observer call, as `kind subscriber [events]`. */
export function recordingObserver(): DeliveryObserver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    delivered: (subscriber, events) => calls.push(`delivered ${subscriber} ${events}`),
    failed: (subscriber) => calls.push(`failed ${subscriber}`),
    retried: (subscriber) => calls.push(`retried ${subscriber}`),
    parked: (subscriber) => calls.push(`parked ${subscriber}`),
  };
}
