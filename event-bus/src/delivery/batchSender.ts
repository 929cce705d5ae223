import { describeHttpFailure, isSuccess, type HttpTransport } from '@blog/service-kit';
import type { LogRow } from '../store/eventLog';
import type { FollowUps } from './followUps';
import type { Outcome } from './outcome';

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
