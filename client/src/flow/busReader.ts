import { ENGINE_NAMES } from '@blog/contracts';
import { busAuthHeaders } from '@blog/service-kit';
import { z } from 'zod';
import { UpstreamFailure, type FlowHttp, type FlowUpstream, type UpstreamAnswer } from './upstream';
import type { DeadLetterView, FlowEvent } from './wire';

/** Most events one read asks the bus for: the stream's pages and the page's own reads alike. */
export const MAX_EVENTS_PAGE = 500;
/** An event larger than this is streamed without its data (a comment is a few KiB at most). */
export const MAX_STREAMED_EVENT_BYTES = 32 * 1024;

/** A stored event, loosely: the fields the page shows must be there; anything else is passed on as it is. */
const storedEvent = z.looseObject({
  seq: z.number().int().positive(),
  id: z.string(),
  source: z.string(),
  type: z.string(),
  time: z.string(),
  requestid: z.string().optional(),
});

const logEnd = z.object({ lastSeq: z.number().int().min(0) });

const subscriberStatus = z.object({
  /** The service it delivers to, as the bus names it (null: a subscriber configured by URL alone). */
  name: z.string().nullable().default(null),
  engine: z.enum(ENGINE_NAMES).optional(),
  url: z.string(),
  position: z.number(),
  lag: z.number(),
  types: z.array(z.string()).nullable().optional(),
  consecutiveFailures: z.number().default(0),
  deliveries: z.number().default(0),
  eventsDelivered: z.number().default(0),
  failures: z.number().default(0),
  lastError: z.string().nullable().default(null),
  lastSuccessAt: z.string().nullable().default(null),
  deadLettered: z.number().default(0),
});
export type BusSubscriber = z.infer<typeof subscriberStatus>;

const deadLetter = z.object({
  subscriber: z.string(),
  seq: z.number(),
  id: z.string(),
  type: z.string(),
  attempts: z.number(),
  lastError: z.string(),
  parkedAt: z.string(),
});

/** The bus's refusal of a retry, passed on to the page: 401 (no or wrong token), 403 (not the operator), or another. */
export interface RetryAnswer {
  status: number;
  body: unknown;
}

/** An event as it goes on the stream: whole, unless it is too large, then without its data. */
export function streamable(event: FlowEvent): FlowEvent {
  if (JSON.stringify(event).length <= MAX_STREAMED_EVENT_BYTES) return event;
  const { data: _left, ...rest } = event;
  return { ...rest, truncated: true };
}

/**
 * Reads the bus as the flow page needs it (the log, the subscribers, the dead letters) with the client
 * server's own credential, which may read and nothing else. The one write, a dead-letter retry, carries
 * the operator's token the page was given, never a right of the client server's own.
 */
export class BusReader {
  readonly upstream: FlowUpstream;

  constructor(
    private readonly http: FlowHttp,
    url: string,
    /** The client's read-only credential (BUS_TOKEN), where the bus checks credentials. */
    private readonly token: string | undefined,
  ) {
    this.upstream = { name: 'event-bus', url };
  }

  /** Up to `limit` events after `after`, in order; an entry that is not a stored event is left out. */
  async readAfter(after: number, limit: number): Promise<FlowEvent[]> {
    const answer = await this.get(`/events?after=${after}&limit=${Math.min(limit, MAX_EVENTS_PAGE)}`, 32 * 1024 * 1024);
    if (!Array.isArray(answer)) throw new UpstreamFailure(503, 'the event-bus service sent something other than a list of events', 'not a list');
    const events: FlowEvent[] = [];
    for (const entry of answer) {
      const parsed = storedEvent.safeParse(entry);
      if (parsed.success) events.push(parsed.data as FlowEvent);
    }
    return events;
  }

  async subscribers(): Promise<BusSubscriber[]> {
    const answer = await this.get('/subscribers');
    return z.array(subscriberStatus).catch([]).parse(answer);
  }

  async deadLetters(): Promise<DeadLetterView[]> {
    const answer = await this.get('/dead-letters');
    // Bounded: a bus with thousands parked still gives the page a readable list.
    return z.array(deadLetter).catch([]).parse(answer).slice(0, 500);
  }

  /** Where the log ends (GET /events/end, one small read); 0 for an empty log. */
  async lastSeq(): Promise<number> {
    return logEnd.parse(await this.get('/events/end')).lastSeq;
  }

  /** Asks the bus to deliver parked events again, with `operatorToken` if the page gave one. */
  async retry(filter: { subscriber: string; seq?: number }, operatorToken: string | undefined): Promise<RetryAnswer> {
    const answer = await this.http.call(this.upstream, '/dead-letters/retry', {
      method: 'POST',
      body: filter,
      headers: busAuthHeaders(operatorToken ?? this.token),
    });
    return answer;
  }

  private async get(path: string, maxBytes?: number): Promise<unknown> {
    const answer: UpstreamAnswer = await this.http.call(this.upstream, path, { headers: busAuthHeaders(this.token), maxBytes });
    if (answer.status === 200) return answer.body;
    const said = typeof (answer.body as { error?: unknown } | null)?.error === 'string' ? `: ${(answer.body as { error: string }).error}` : '';
    if (answer.status === 401 || answer.status === 403) {
      throw new UpstreamFailure(503, `the event-bus service refused the client server's read (${answer.status}${said}); is BUS_TOKEN the client's credential?`, `refused (${answer.status})`);
    }
    throw new UpstreamFailure(503, `the event-bus service answered ${answer.status}${said}`, `answered ${answer.status}`);
  }
}
