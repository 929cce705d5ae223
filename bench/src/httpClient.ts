import { HttpTransport } from '@blog/service-kit';

export interface HttpResult {
  status: number;
  body: string;
}

/** Generous: the benchmark waits out a saturated system rather than counting slow answers as failures. */
const TIMEOUT_MS = 120_000;

/**
 * The load generator's client: the services' own keep-alive transport (undici), so the generator spends
 * as little of the two cores it shares with the services as it can, plus JSON bodies.
 */
export class HttpClient {
  private readonly transport: HttpTransport;

  /** `connections`: at least as many as the concurrent clients it serves; `headers` go on every request. */
  constructor(connections: number, headers: Record<string, string> = {}) {
    this.transport = new HttpTransport(TIMEOUT_MS, { connections, headers });
  }

  async request(method: 'GET' | 'POST', url: string, body?: unknown): Promise<HttpResult> {
    const answer = await this.transport.send(method, url, body === undefined ? undefined : JSON.stringify(body));
    return { status: answer.status, body: answer.text };
  }

  async getJson<T>(url: string): Promise<T> {
    const result = await this.request('GET', url);
    if (result.status !== 200) throw new Error(`GET ${url} answered ${result.status}`);
    return JSON.parse(result.body) as T;
  }

  close(): void {
    void this.transport.close();
  }
}
