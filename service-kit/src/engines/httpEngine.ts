import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import {
  EVENTS_BODY_LIMIT_BYTES,
  EngineOutcomeUnknownError,
  EngineUnavailableError,
  MAX_EVENT_BATCH,
  buildEnvelope,
  logPageSchema,
  type Envelope,
  type EventEngine,
  type KnownEvent,
  type LogEntry,
  type PublishOptions,
  type FeedPosition,
  type PublishReceipt,
  type Subscription,
} from '@blog/contracts';
import { z } from 'zod';
import { busAuthHeaders } from '../guards';
import { HttpTransport, describeHttpFailure, isRetryableStatus, neverReached } from './httpTransport';
import { TurnBatch, type Waiting } from './turnBatch';

export interface HttpEngineOptions {
  baseUrl: string;
  /** CloudEvents `source` of everything this process publishes, e.g. "/posts". */
  source: string;
  /** Extra attempts of a publish after the first when the bus is unreachable or answers 5xx. */
  retries: number;
  /** Longest wait for the bus's answer to one request. */
  timeoutMs: number;
  /** Sent as a bearer token on every call when set (BUS_TOKEN). */
  token?: string;
  /** Wait before the first retry; doubles for each further one, up to a second. */
  retryDelayMs?: number;
  /**
   * How long to keep retrying once a request may have reached the bus unanswered (connection reset,
   * timeout): a 503 must mean "nothing stored", so the client keeps asking (same id) until it knows.
   */
  unknownOutcomeMs?: number;
}

/** A one-line reason for a failed call to the bus. */
export function describeEngineFailure(error: unknown): string {
  if (error instanceof EngineUnavailableError || error instanceof EngineOutcomeUnknownError) return error.reason;
  return `bus unreachable (${describeHttpFailure(error)})`;
}

const receiptSchema = z.object({ id: z.string(), seq: z.number().int().positive(), duplicate: z.boolean().optional() });
const logEndSchema = z.object({ lastSeq: z.number().int().min(0) });
const subscriberPositionsSchema = z.array(z.object({ name: z.string().nullable(), position: z.number().int().min(0) }));


/** An envelope to publish, serialized once (its size decides which request it travels in). */
interface Outgoing {
  envelope: Envelope;
  text: string;
}
type QueuedPublish = Waiting<Outgoing, PublishReceipt>;

/**
 * The embedded bus (the event-bus service) over HTTP: publishes are `POST /events` to it, the replay is
 * `GET /events?after=&limit=`, and live events are pushed by the bus to the service's own `POST /events`.
 */
export class HttpEngine implements EventEngine {
  readonly delivery = 'push' as const;
  private readonly http: HttpTransport;
  private readonly retryDelayMs: number;
  private readonly unknownOutcomeMs: number;
  private readonly outbox = new TurnBatch<Outgoing, PublishReceipt>((queued) => this.sendQueued(queued));

  constructor(private readonly options: HttpEngineOptions) {
    this.http = new HttpTransport(options.timeoutMs, { headers: busAuthHeaders(options.token) });
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.unknownOutcomeMs = options.unknownOutcomeMs ?? 10_000;
  }

  get source(): string {
    return this.options.source;
  }

  /** The name the bus's SUBSCRIBERS give this service: its source's, `/posts` -> `posts`. */
  private get subscriberName(): string {
    return this.options.source.replace(/^\/+/, '');
  }

  /**
   * Publishes made in the same event-loop turn travel to the bus in one request (an array, stored all or
   * none), so a burst of comments or a batch of verdicts costs one round trip, not one each.
   */
  publish(event: KnownEvent, { id = randomUUID(), requestId }: PublishOptions = {}): Promise<PublishReceipt> {
    // The id is fixed before the first attempt, so a retry of a publish that did land is deduplicated.
    const envelope = buildEnvelope(event, this.source, id, new Date(), requestId);
    return this.outbox.add({ envelope, text: JSON.stringify(envelope) });
  }

  /** Nothing to start: the bus pushes live events to the service's `POST /events`. */
  async subscribe(): Promise<Subscription> {
    return { stop: async () => {} };
  }

  /** Sends the queue in requests the bus accepts: at most MAX_EVENT_BATCH events and EVENTS_BODY_LIMIT_BYTES each. */
  private sendQueued(queue: QueuedPublish[]): void {
    let batch: QueuedPublish[] = [];
    let bytes = 2;
    for (const queued of queue) {
      const size = Buffer.byteLength(queued.item.text) + 1;
      if (batch.length > 0 && (batch.length === MAX_EVENT_BATCH || bytes + size > EVENTS_BODY_LIMIT_BYTES)) {
        void this.sendBatch(batch);
        batch = [];
        bytes = 2;
      }
      batch.push(queued);
      bytes += size;
    }
    if (batch.length > 0) void this.sendBatch(batch);
  }

  private async sendBatch(batch: QueuedPublish[]): Promise<void> {
    try {
      const receipts = await this.postWithRetries(batch);
      batch.forEach((queued, index) => queued.resolve(receipts[index]!));
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }

  private async postWithRetries(batch: QueuedPublish[]): Promise<PublishReceipt[]> {
    const single = batch.length === 1;
    const body = single ? batch[0]!.item.text : `[${batch.map((queued) => queued.item.text).join(',')}]`;
    const unknownDeadline = Date.now() + this.unknownOutcomeMs;
    let lastFailure = 'no attempt made';
    let outcomeUnknown = false;
    for (let attempt = 0; attempt <= this.options.retries || (outcomeUnknown && Date.now() < unknownDeadline); attempt += 1) {
      if (attempt > 0) await sleep(Math.min(this.retryDelayMs * 2 ** (attempt - 1), 1000));
      let answer;
      try {
        answer = await this.http.send('POST', `${this.options.baseUrl}/events`, body);
      } catch (error) {
        lastFailure = describeEngineFailure(error);
        // A request that never reached the bus stored nothing; any other failure may have stored it.
        if (!neverReached(error)) outcomeUnknown = true;
        continue;
      }
      if (answer.status === 200 || answer.status === 201) {
        const parsed: unknown = JSON.parse(answer.text);
        return single ? [receiptSchema.parse(parsed)] : z.array(receiptSchema).length(batch.length).parse(parsed);
      }
      if (!isRetryableStatus(answer.status)) {
        // The bus refused the events themselves: a contract bug on our side, not an outage.
        throw new Error(`bus rejected ${batch.map((queued) => queued.item.envelope.type).join(', ')}: ${answer.status} ${answer.text}`);
      }
      lastFailure = `bus answered ${answer.status}`;
    }
    if (outcomeUnknown) throw new EngineOutcomeUnknownError(lastFailure);
    throw new EngineUnavailableError(lastFailure);
  }

  /** One attempt: a replaying service retries the whole read itself (see the service kit's server). */
  async read(after: number, limit: number): Promise<LogEntry[]> {
    let answer;
    try {
      answer = await this.http.send('GET', `${this.options.baseUrl}/events?after=${after}&limit=${limit}`);
    } catch (error) {
      throw new EngineUnavailableError(describeEngineFailure(error), 'cannot read the event log');
    }
    if (answer.status !== 200) {
      throw new EngineUnavailableError(`bus answered ${answer.status}`, 'cannot read the event log');
    }
    return logPageSchema.parse(JSON.parse(answer.text));
  }

  /**
   * The log's end (GET /events/end), and how far the bus has delivered to this service, counting the
   * events it skips as of no interest to it (its entry in GET /subscribers, by name): one service's
   * position alone would lag behind every event it does not handle.
   */
  async feedPosition(): Promise<FeedPosition> {
    const [end, subscribers] = await Promise.all([this.getJson('/events/end', logEndSchema), this.getJson('/subscribers', subscriberPositionsSchema)]);
    const own = subscribers.find((subscriber) => subscriber.name === this.subscriberName);
    return { logEnd: end.lastSeq, passed: own?.position ?? 0 };
  }

  private async getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    let answer;
    try {
      answer = await this.http.send('GET', `${this.options.baseUrl}${path}`);
    } catch (error) {
      throw new EngineUnavailableError(describeEngineFailure(error), 'cannot reach the event log');
    }
    if (answer.status !== 200) throw new EngineUnavailableError(`bus answered ${answer.status} to GET ${path}`, 'cannot reach the event log');
    return schema.parse(JSON.parse(answer.text));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
