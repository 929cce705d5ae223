import type { DeadLetter } from '@blog/contracts';

export type { DeadLetter };

/**
 * What the bus remembers about its subscribers: how far each has got, and the events parked for each.
 * Saving never throws and is not awaited: a lost save only means events are delivered again after a
 * restart, which subscribers tolerate (delivery is at least once).
 */
export interface SubscriberState {
  /** Each subscriber's last delivered seq, by URL, as last saved. */
  loadPositions(): Map<string, number>;
  savePositions(positions: ReadonlyMap<string, number>): void;
  /** The parked events, by subscriber, then seq. */
  loadDeadLetters(): DeadLetter[];
  /** Records a parked event; stored before any position saved after this call. */
  park(letter: DeadLetter): void;
  unpark(subscriber: string, seq: number): void;
}
