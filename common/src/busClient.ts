import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { buildEnvelope, logEntrySchema, type Envelope, type LogEntry } from './envelope';
import type { BusServiceConfig } from './config';
import { AppError } from './errors';
import { busAuthHeaders } from './security';
import { HttpTransport, describeHttpFailure, isRetryableStatus, neverReached } from './httpTransport';
import type { KnownEvent } from './events';

export interface PublishReceipt {
  id: string;
  seq: number;
}

export interface BusClient {
  /** CloudEvents `source` of everything this client publishes, e.g. "/comments". */
  readonly source: string;
  /** Resolves once the bus has durably stored the event; the same `id` is stored at most once. */
  /** `requestId`: the request that caused the event, carried on it as the `requestid` attribute. */
  publish(event: KnownEvent, id?: string, requestId?: string): Promise<PublishReceipt>;
  /** Events with seq greater than `after`, oldest first, at most `limit`. */
  readEvents(after: number, limit: number): Promise<LogEntry[]>;
}

export interface BusClientOptions {
  baseUrl: string;
  /** CloudEvents `source` of everything this process publishes, e.g. "/posts". */
  source: string;
  /** Extra attempts after the first when the bus is unreachable or answers 5xx. */
  retries: number;
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

export class BusUnavailableError extends AppError {
  constructor(
    readonly reason: string,
    message = 'the event bus cannot take the event right now; nothing was stored, try again',
  ) {
    super(503, message, [{ message: reason }]);
  }
}

/** The bus may have stored the event and could not say so in time: the caller must not assume either way. */
export class BusOutcomeUnknownError extends AppError {
  constructor(readonly reason: string) {
    super(504, 'the event bus did not confirm the write in time: it may still appear; check before sending it again', [
      { message: reason },
    ]);
  }
}

const receiptSchema = z.object({ id: z.string(), seq: z.number().int().positive() });
/** A page of the log as a replaying service needs it; known events' data is checked when applied. */
const eventPageSchema = z.array(logEntrySchema);

/** A one-line reason for a failed call to the bus. */
export function describeBusFailure(error: unknown): string {
  if (error instanceof BusUnavailableError || error instanceof BusOutcomeUnknownError) return error.reason;
  return `bus unreachable (${describeHttpFailure(error)})`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface QueuedPublish {
  envelope: Envelope;
  resolve: (receipt: PublishReceipt) => void;
  reject: (error: unknown) => void;
}

/** Most events sent to the bus in one request; the bus takes up to 1,000. */
const MAX_PUBLISH_BATCH = 500;

class HttpBusClient implements BusClient {
  private readonly http: HttpTransport;
  private readonly retryDelayMs: number;
  private readonly unknownOutcomeMs: number;
  private queue: QueuedPublish[] = [];
  private sendScheduled = false;

  constructor(private readonly options: BusClientOptions) {
    this.http = new HttpTransport(options.timeoutMs, { headers: busAuthHeaders(options.token) });
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.unknownOutcomeMs = options.unknownOutcomeMs ?? 10_000;
  }

  get source(): string {
    return this.options.source;
  }

  /**
   * Publishes made in the same event-loop turn travel to the bus in one request (an array, stored all or
   * none), so a burst of comments or a batch of verdicts costs one round trip, not one each.
   */
  publish(event: KnownEvent, id: string = randomUUID(), requestId?: string): Promise<PublishReceipt> {
    // The id is fixed before the first attempt, so a retry of a publish that did land is deduplicated.
    const envelope = buildEnvelope(event, this.source, id, new Date(), requestId);
    return new Promise((resolve, reject) => {
      this.queue.push({ envelope, resolve, reject });
      if (!this.sendScheduled) {
        this.sendScheduled = true;
        setImmediate(() => this.sendQueued());
      }
    });
  }

  private sendQueued(): void {
    this.sendScheduled = false;
    while (this.queue.length > 0) void this.sendBatch(this.queue.splice(0, MAX_PUBLISH_BATCH));
  }

  private async sendBatch(batch: QueuedPublish[]): Promise<void> {
    try {
      const receipts = await this.postWithRetries(batch.map((queued) => queued.envelope));
      batch.forEach((queued, index) => queued.resolve(receipts[index]!));
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }

  private async postWithRetries(envelopes: Envelope[]): Promise<PublishReceipt[]> {
    const single = envelopes.length === 1;
    const body = JSON.stringify(single ? envelopes[0] : envelopes);
    const unknownDeadline = Date.now() + this.unknownOutcomeMs;
    let lastFailure = 'no attempt made';
    let outcomeUnknown = false;
    for (let attempt = 0; attempt <= this.options.retries || (outcomeUnknown && Date.now() < unknownDeadline); attempt += 1) {
      if (attempt > 0) await sleep(Math.min(this.retryDelayMs * 2 ** (attempt - 1), 1000));
      let answer;
      try {
        answer = await this.http.send('POST', `${this.options.baseUrl}/events`, body);
      } catch (error) {
        lastFailure = describeBusFailure(error);
        // A request that never reached the bus stored nothing; any other failure may have stored it.
        if (!neverReached(error)) outcomeUnknown = true;
        continue;
      }
      if (answer.status === 200 || answer.status === 201) {
        const parsed: unknown = JSON.parse(answer.text);
        return single ? [receiptSchema.parse(parsed)] : z.array(receiptSchema).length(envelopes.length).parse(parsed);
      }
      if (!isRetryableStatus(answer.status)) {
        // The bus refused the events themselves: a contract bug on our side, not an outage.
        throw new Error(`bus rejected ${envelopes.map((e) => e.type).join(', ')}: ${answer.status} ${answer.text}`);
      }
      lastFailure = `bus answered ${answer.status}`;
    }
    if (outcomeUnknown) throw new BusOutcomeUnknownError(lastFailure);
    throw new BusUnavailableError(lastFailure);
  }

  async readEvents(after: number, limit: number): Promise<LogEntry[]> {
    let answer;
    try {
      answer = await this.http.send('GET', `${this.options.baseUrl}/events?after=${after}&limit=${limit}`);
    } catch (error) {
      throw new BusUnavailableError(describeBusFailure(error), 'cannot read the event log');
    }
    if (answer.status !== 200) {
      throw new BusUnavailableError(`bus answered ${answer.status}`, 'cannot read the event log');
    }
    return eventPageSchema.parse(JSON.parse(answer.text));
  }
}

export function createBusClient(options: BusClientOptions): BusClient {
  return new HttpBusClient(options);
}

/** The bus client a service builds from its configuration; `source` names it in every event it publishes. */
export function busClientFor(config: BusServiceConfig, source: string): BusClient {
  return createBusClient({
    baseUrl: config.EVENT_BUS_URL,
    source,
    retries: config.PUBLISH_RETRIES,
    timeoutMs: config.BUS_TIMEOUT_MS,
    token: config.BUS_TOKEN,
  });
}
