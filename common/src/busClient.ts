import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import axios, { isAxiosError, type AxiosInstance } from 'axios';
import { z } from 'zod';
import { buildEnvelope, storedEventSchema, type StoredEvent } from './envelope';
import type { BusServiceConfig } from './config';
import { AppError } from './errors';
import type { KnownEvent } from './events';

export interface PublishReceipt {
  id: string;
  seq: number;
}

export interface BusClient {
  /** Resolves once the bus has durably stored the event; the same `id` is stored at most once. */
  publish(event: KnownEvent, id?: string): Promise<PublishReceipt>;
  /** Events with seq greater than `after`, oldest first, at most `limit`. */
  readEvents(after: number, limit: number): Promise<StoredEvent[]>;
}

export interface BusClientOptions {
  baseUrl: string;
  /** CloudEvents `source` of everything this process publishes, e.g. "/posts". */
  source: string;
  /** Extra attempts after the first when the bus is unreachable or answers 5xx. */
  retries: number;
  timeoutMs: number;
  /** Wait before the first retry; doubles for each further one. */
  retryDelayMs?: number;
}

export class BusUnavailableError extends AppError {
  constructor(
    readonly reason: string,
    message = 'the event bus cannot take the event right now; nothing was stored, try again',
  ) {
    super(503, message, [{ message: reason }]);
  }
}

const receiptSchema = z.object({ id: z.string(), seq: z.number().int().positive() });
const eventPageSchema = z.array(storedEventSchema);

/** A one-line reason for a failed call to the bus, without axios's whole request object. */
export function describeBusFailure(error: unknown): string {
  if (error instanceof BusUnavailableError) return error.reason;
  if (isAxiosError(error)) {
    return error.response ? `bus answered ${error.response.status}` : `bus unreachable (${error.code ?? error.message})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function isRetryable(error: unknown): boolean {
  if (!isAxiosError(error)) return false;
  const status = error.response?.status;
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createHttpClient(baseURL: string, timeoutMs: number): AxiosInstance {
  // Keep-alive pools: every event costs one request, so reconnecting each time would dominate.
  return axios.create({
    baseURL,
    timeout: timeoutMs,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
    headers: { 'content-type': 'application/json' },
    // We decide what a status means; axios should not throw on 4xx/5xx by itself.
    validateStatus: () => true,
  });
}

class HttpBusClient implements BusClient {
  private readonly http: AxiosInstance;
  private readonly retryDelayMs: number;

  constructor(private readonly options: BusClientOptions) {
    this.http = createHttpClient(options.baseUrl, options.timeoutMs);
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  async publish(event: KnownEvent, id: string = randomUUID()): Promise<PublishReceipt> {
    // The id is fixed before the first attempt, so a retry of a publish that did land is deduplicated.
    const envelope = buildEnvelope(event, this.options.source, id);
    let lastFailure = 'no attempt made';
    for (let attempt = 0; attempt <= this.options.retries; attempt += 1) {
      if (attempt > 0) await sleep(this.retryDelayMs * 2 ** (attempt - 1));
      try {
        const response = await this.http.post('/events', envelope);
        if (response.status === 200 || response.status === 201) {
          return receiptSchema.parse(response.data);
        }
        const error = new axios.AxiosError(`bus answered ${response.status}`, undefined, undefined, undefined, response);
        if (!isRetryable(error)) {
          // The bus refused the event itself: a contract bug on our side, not an outage.
          throw new Error(`bus rejected ${event.type}: ${response.status} ${JSON.stringify(response.data)}`);
        }
        lastFailure = describeBusFailure(error);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        lastFailure = describeBusFailure(error);
      }
    }
    throw new BusUnavailableError(lastFailure);
  }

  async readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    let response;
    try {
      response = await this.http.get('/events', { params: { after, limit } });
    } catch (error) {
      throw new BusUnavailableError(describeBusFailure(error), 'cannot read the event log');
    }
    if (response.status !== 200) {
      throw new BusUnavailableError(`bus answered ${response.status}`, 'cannot read the event log');
    }
    return eventPageSchema.parse(response.data);
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
  });
}
