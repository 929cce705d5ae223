import type { Envelope } from '@blog/contracts';
import type { SubscriberStatus } from './delivery/deliveryStats';
import type { AppendResult, LogRow } from './store/eventLog';
import type { DeadLetter } from './store/subscriberState';

/** How one event of a batch fared when not all of it could be stored (NATS stores each event on its own). */
export type BatchOutcome = { index: number; id: string } & ({ outcome: 'stored'; seq: number } | { outcome: 'not stored' | 'unknown'; reason: string });

/**
 * Part of a batch was stored and part not (or not surely): the answer names each. The embedded log
 * stores a batch in one transaction, all or none, so only the NATS gateway throws it.
 */
export class PartlyStoredError extends Error {
  constructor(readonly outcomes: BatchOutcome[]) {
    super('only part of the batch was stored');
    this.name = 'PartlyStoredError';
  }
}

/** What the publish endpoint tells the bus's metrics (BusMetrics, in bus.ts). */
export interface PublishMeter {
  published(publishSeconds: number): void;
}

/**
 * What the bus's HTTP routes need, whichever engine is behind them: the embedded log and delivery hub,
 * or NATS JetStream through the gateway. Each may answer now or later.
 */
export interface BusBackend {
  /** Stores the events (see EventLog.append); rejects if the engine cannot. */
  append(envelopes: Envelope[]): Promise<AppendResult[]>;
  readAfter(after: number, limit: number): Promise<LogRow[]>;
  /** The seq of the newest stored event (0 for an empty log). */
  logEnd(): number | Promise<number>;
  /** One entry per subscriber (embedded) or durable consumer (NATS), for GET /subscribers. */
  subscribers(): SubscriberStatus[] | Promise<SubscriberStatus[]>;
  deadLetters(): DeadLetter[] | Promise<DeadLetter[]>;
  /** Delivers parked events again: all of them, one subscriber's, or one event; answers how many. */
  retryDeadLetters(filter: { subscriber?: string; seq?: number }): number | Promise<number>;
}
