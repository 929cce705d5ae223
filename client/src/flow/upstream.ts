import { AppError, describeHttpFailure, httpFailureCode, neverReached } from '@blog/service-kit';
import type { Agent, Dispatcher } from 'undici';
import { upstreamAgent } from '../upstreamAgent';

/** A service the flow page reads from, named in its error answers. */
export interface FlowUpstream {
  name: string;
  url: string;
}

export interface UpstreamAnswer {
  status: number;
  body: unknown;
}

export interface FlowHttpOptions {
  /** Longest wait for a connection before the service counts as down. */
  connectTimeoutMs: number;
  /** Longest wait for the whole answer (the flow page's reads are small and quick, or not worth waiting for). */
  timeoutMs: number;
}

export interface CallOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  /** Larger answers are cut off and count as a failure: the page never needs more. */
  maxBytes?: number;
  /** A shorter wait than the default (health checks). */
  timeoutMs?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** The service did not answer usefully: 503 (down, unreachable) or 504 (too slow), in the error answers' shape. */
export class UpstreamFailure extends AppError {
  constructor(
    status: 503 | 504,
    message: string,
    /** A few words on what went wrong underneath (ECONNREFUSED, a timeout), for the snapshot's reasons. */
    readonly reason: string,
  ) {
    super(status, message);
    this.name = 'UpstreamFailure';
  }
}

async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The flow page's calls to the services, the bus and the supervisor: small JSON requests over kept-alive
 * connections, each bounded in time and size, every failure turned into a 503 or 504 that names the service.
 */
export class FlowHttp {
  private readonly agent: Agent;

  constructor(private readonly options: FlowHttpOptions) {
    // A handful of connections per service is plenty for one poller and a few page actions.
    this.agent = upstreamAgent({ ...options, connections: 4 });
  }

  async call(upstream: FlowUpstream, path: string, { method = 'GET', headers = {}, body, maxBytes = DEFAULT_MAX_BYTES, timeoutMs }: CallOptions = {}): Promise<UpstreamAnswer> {
    const limit = timeoutMs ?? this.options.timeoutMs;
    let text: string | null;
    let status: number;
    try {
      const answer = await this.agent.request({
        origin: new URL(upstream.url).origin,
        path,
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(limit),
        headersTimeout: limit,
        bodyTimeout: limit,
      });
      status = answer.statusCode;
      text = await readBounded(answer.body, maxBytes);
    } catch (error) {
      throw this.failureOf(error, upstream, method, limit);
    }
    if (text === null) throw new UpstreamFailure(503, `the ${upstream.name} service sent an answer larger than ${maxBytes} bytes`, 'answer too large');
    let parsed: unknown = null;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      if (status < 400) throw new UpstreamFailure(503, `the ${upstream.name} service sent an answer that is not JSON`, 'not JSON');
    }
    return { status, body: parsed };
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private failureOf(error: unknown, upstream: FlowUpstream, method: string, timeoutMs: number): UpstreamFailure {
    const reason = describeHttpFailure(error);
    if (neverReached(error)) return new UpstreamFailure(503, `the ${upstream.name} service is unavailable (${reason})`, 'not answering');
    const code = httpFailureCode(error);
    const timedOut =
      code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || (error as { name?: unknown })?.name === 'TimeoutError';
    if (timedOut) {
      const seconds = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 100) / 10} s` : `${timeoutMs} ms`;
      return new UpstreamFailure(
        504,
        `the ${upstream.name} service did not answer within ${seconds}` + (method === 'GET' ? '' : '; it may still have done it'),
        `no answer within ${seconds}`,
      );
    }
    return new UpstreamFailure(503, `the ${upstream.name} service is unavailable (${reason})`, reason);
  }
}
