/**
 * One batch's way to a subscriber: which types it takes, the send, what a refusal leads to, and the
 * follow-ups stored before the delivery counts as done.
 */
import { type HttpTransport, describeHttpFailure, isSuccess, AppError, type Logger } from '@blog/service-kit';
import { z } from 'zod';
import type { LogRow, EventLog } from '../store/eventLog';
import { parsedOrNull } from '@blog/contracts';
import { logStored, toEnvelopes } from '../routes/eventRoutes';

/**
 * How a delivery ended. `refused`: the subscriber answered and said no to these events (400, 413, 422,
 * 500 ...), which repeats for the same event; `unreachable`: no answer, or one that is about the
 * subscriber rather than the event (see BatchSender below), which must never park the whole log. Only
 * refusals count towards parking.
 */
export type Outcome = { kind: 'delivered' } | { kind: 'refused'; reason: string } | { kind: 'unreachable'; reason: string };

export const DELIVERED: Outcome = { kind: 'delivered' };

const interestsSchema = z.object({ types: z.array(z.string()) });

export interface InterestProbeOptions {
  /** The subscriber's events URL: asked with GET, delivered to with POST. */
  url: string;
  http: HttpTransport;
}

/**
 * A subscriber may answer `GET <its events URL>` with `{"types": [...]}`, the event types it handles;
 * the others are then not sent to it. One that does not answer so (a course-style service) gets all.
 */
export class InterestProbe {
  private readonly url: string;
  private readonly http: HttpTransport;
  /** The event types the subscriber said it handles; null: it did not say, so it gets every event. */
  private wanted: ReadonlySet<string> | null = null;
  private known = false;

  constructor({ url, http }: InterestProbeOptions) {
    this.url = url;
    this.http = http;
  }

  /** True until the subscriber has answered, and again after forget(). */
  get needsAsking(): boolean {
    return !this.known;
  }

  get types(): string[] | null {
    return this.wanted ? [...this.wanted] : null;
  }

  /** Asks the subscriber; throws when it cannot be reached (what it said before still holds then). */
  async ask(): Promise<void> {
    const answer = await this.http.send('GET', this.url);
    const parsed = answer.status === 200 ? interestsSchema.safeParse(parsedOrNull(answer.text)) : null;
    this.wanted = parsed?.success ? new Set(parsed.data.types) : null;
    this.known = true;
  }

  /** The subscriber may come back as a new version that handles other types: ask again before the next delivery. */
  forget(): void {
    this.known = false;
  }

  /** The rows the subscriber wants. */
  pick(rows: LogRow[]): LogRow[] {
    const wanted = this.wanted;
    return wanted ? rows.filter((row) => wanted.has(row.type)) : rows;
  }
}

/**
 * Answers about the subscriber rather than the event: not ready, overloaded, no backend behind a
 * proxy, or a wrong URL or token (401, 403, 404). Retried, never counted towards parking.
 */
const NOT_ABOUT_THE_EVENT = new Set([401, 403, 404, 405, 408, 429, 502, 503, 504]);

export interface BatchSenderOptions {
  url: string;
  http: HttpTransport;
  /** Send a single event as the bare object rather than a one-element array, as course-style subscribers expect. */
  bareSingleEvent: boolean;
  followUps: FollowUps;
  /** Aborts the delivery in flight (the loop is stopping). */
  signal: AbortSignal;
}

/** POSTs a batch of events to one subscriber and says how that went; a batch counts as delivered only on a 2xx. */
export class BatchSender {
  constructor(private readonly options: BatchSenderOptions) {}

  async send(rows: LogRow[]): Promise<Outcome> {
    const { url, http, bareSingleEvent, followUps, signal } = this.options;
    const body = bareSingleEvent && rows.length === 1 ? rows[0]!.body : `[${rows.map((row) => row.body).join(',')}]`;
    try {
      const answer = await http.send('POST', url, body, signal);
      if (isSuccess(answer.status)) return await followUps.storeFrom(answer.text);
      const reason = `answered ${answer.status}`;
      return NOT_ABOUT_THE_EVENT.has(answer.status) ? { kind: 'unreachable', reason } : { kind: 'refused', reason };
    } catch (error) {
      return { kind: 'unreachable', reason: describeHttpFailure(error) };
    }
  }
}

export type RefusalVerdict = { action: 'narrow' } | { action: 'retry' } | { action: 'park'; attempts: number };

/**
 * Finds the event a subscriber refuses: a refused batch is narrowed to one event at a time until past
 * its end, and an event refused `maxAttempts` times in a row is to be parked.
 */
export class Refusals {
  /** Refusals in a row of the event the loop is stuck on. */
  private inARow = 0;
  /** While the position is below this seq, events go one at a time, so one refused event is isolated. */
  private isolateUntil = 0;

  constructor(private readonly options: { batchSize: number; maxAttempts: number }) {}

  /** How many events to send next from `position`. */
  batchLimit(position: number): number {
    return position < this.isolateUntil ? 1 : this.options.batchSize;
  }

  get any(): boolean {
    return this.inARow > 0;
  }

  /** A batch of `size` events ending at seq `last` was refused. */
  refused(size: number, last: number): RefusalVerdict {
    if (size > 1) {
      this.isolateUntil = last;
      return { action: 'narrow' };
    }
    this.inARow += 1;
    if (this.inARow < this.options.maxAttempts) return { action: 'retry' };
    const attempts = this.inARow;
    this.inARow = 0;
    return { action: 'park', attempts };
  }

  /** The event went through (or was parked): the count starts again. */
  reset(): void {
    this.inARow = 0;
  }
}

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
