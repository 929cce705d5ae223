import { Agent, request } from 'undici';

export interface HttpResult {
  status: number;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * A lean keep-alive HTTP client (undici), so the load generator spends as little of the machine's CPU as
 * it can: it shares the two cores with the services it measures.
 */
export class HttpClient {
  private readonly dispatcher: Agent;

  constructor(connections: number) {
    this.dispatcher = new Agent({ connections, keepAliveTimeout: 30_000 });
  }

  async request(method: 'GET' | 'POST', url: string, body?: unknown): Promise<HttpResult> {
    const response = await request(url, {
      method,
      dispatcher: this.dispatcher,
      headers: body === undefined ? undefined : JSON_HEADERS,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.statusCode, body: await response.body.text() };
  }

  async getJson<T>(url: string): Promise<T> {
    const result = await this.request('GET', url);
    if (result.status !== 200) throw new Error(`GET ${url} answered ${result.status}`);
    return JSON.parse(result.body) as T;
  }

  close(): void {
    void this.dispatcher.close();
  }
}
