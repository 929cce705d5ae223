import { AppError, describeHttpFailure, type Logger } from '@blog/service-kit';
import { logStored, toEnvelopes } from '../publishing';
import type { EventLog } from '../store/eventLog';
import { parsedOrNull } from '@blog/contracts';
import { DELIVERED, type Outcome } from './outcome';

export interface FollowUpsOptions {
  log: EventLog;
  logger: Logger;
  /** With credentials: whose follow-ups these are; they are held to what that name may publish. */
  publisher?: string;
}

/**
 * The events a subscriber published in reaction, carried in the `publish` field of its answer (see
 * FOLLOW_UPS_HEADER): a delivery counts as done only once they are stored. If they cannot be stored,
 * the delivery is made again later; the subscriber derives the same ids, so nothing is stored twice.
 */
export class FollowUps {
  private readonly log: EventLog;
  private readonly logger: Logger;
  private readonly publisher: string | null;

  constructor({ log, logger, publisher }: FollowUpsOptions) {
    this.log = log;
    this.logger = logger;
    this.publisher = publisher ?? null;
  }

  /** Stores the follow-ups of a 2xx answer; answers whether the delivery it answered is done. */
  async storeFrom(answerText: string): Promise<Outcome> {
    const publish = (parsedOrNull(answerText) as { publish?: unknown } | null)?.publish;
    if (publish === undefined || (Array.isArray(publish) && publish.length === 0)) return DELIVERED;
    let envelopes;
    try {
      envelopes = toEnvelopes(publish, new Date(), this.publisher);
    } catch (error) {
      const first = error instanceof AppError ? error.details[0]?.message : undefined;
      return { kind: 'refused', reason: `its answer carried follow-up events the bus does not accept (${first ?? describeHttpFailure(error)})` };
    }
    try {
      logStored(this.logger, envelopes, await this.log.append(envelopes));
      return DELIVERED;
    } catch (error) {
      return { kind: 'unreachable', reason: `could not store its follow-up events (${describeHttpFailure(error)})` };
    }
  }
}
