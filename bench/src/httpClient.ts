import http from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/**
 * A lean keep-alive HTTP client, so the load generator spends as little of the machine's CPU as it can
 * (it shares the cores with the services it measures).
 */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(method: 'GET' | 'POST', url: string, body?: unknown): Promise<HttpResult> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.agent,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async getJson<T>(url: string): Promise<T> {
    const result = await this.request('GET', url);
    if (result.status !== 200) throw new Error(`GET ${url} answered ${result.status}`);
    return JSON.parse(result.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}
