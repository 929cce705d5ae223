import type { Logger } from '@blog/service-kit';
import type { LogRow } from '../store/eventLog';
import type { DeadLetter, SubscriberState } from '../store/subscriberState';
import type { DeliveryObserver } from './deliveryStats';
import { parsedOrNull } from '@blog/contracts';

export interface DeadLetterShelfOptions {
  subscriber: string;
  state: SubscriberState;
  logger: Logger;
  /** What was parked for this subscriber when the bus started. */
  parked?: DeadLetter[];
  observer?: Pick<DeliveryObserver, 'parked'>;
}

/**
 * One subscriber's parked events: those it refused too often, set aside so the rest of the log could
 * flow, kept until someone asks for them to be delivered again.
 */
export class DeadLetterShelf {
  private readonly subscriber: string;
  private readonly state: SubscriberState;
  private readonly logger: Logger;
  private readonly observer?: Pick<DeliveryObserver, 'parked'>;
  private readonly parked = new Map<number, DeadLetter>();
  /** Parked events asked to be delivered again, oldest request first. */
  private readonly retryQueue: number[] = [];

  constructor({ subscriber, state, logger, parked = [], observer }: DeadLetterShelfOptions) {
    this.subscriber = subscriber;
    this.state = state;
    this.logger = logger;
    this.observer = observer;
    for (const letter of parked) this.parked.set(letter.seq, letter);
  }

  get size(): number {
    return this.parked.size;
  }

  list(): DeadLetter[] {
    return [...this.parked.values()];
  }

  park(row: LogRow, attempts: number, lastError: string): void {
    const stored = parsedOrNull(row.body) as { id?: unknown } | null;
    const letter: DeadLetter = {
      subscriber: this.subscriber,
      seq: row.seq,
      id: typeof stored?.id === 'string' ? stored.id : '',
      type: row.type,
      attempts,
      lastError,
      parkedAt: new Date().toISOString(),
    };
    this.parked.set(row.seq, letter);
    this.state.park(letter);
    this.observer?.parked(this.subscriber);
    this.logger.error(
      { subscriber: this.subscriber, seq: row.seq, type: row.type, attempts, reason: lastError },
      'subscriber keeps refusing an event; parked it as a dead letter and went on (POST /dead-letters/retry to try again)',
    );
  }

  /** Takes parked events (all, or the one at `seq`) off the shelf to be delivered again; answers how many. */
  takeForRetry(seq?: number): number {
    const chosen = seq === undefined ? [...this.parked.keys()] : this.parked.has(seq) ? [seq] : [];
    for (const parkedSeq of chosen) {
      this.parked.delete(parkedSeq);
      this.state.unpark(this.subscriber, parkedSeq);
      this.retryQueue.push(parkedSeq);
    }
    return chosen.length;
  }

  /** The seq of the next event to deliver again, if any. */
  nextRetry(): number | undefined {
    return this.retryQueue[0];
  }

  /** The event from nextRetry() was delivered, or parked again. */
  retryDone(): void {
    this.retryQueue.shift();
  }
}
