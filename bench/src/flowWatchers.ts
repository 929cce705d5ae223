import http from 'node:http';

/** What the watchers saw: how many stream messages, and how many events in them. */
export interface WatchedCounts {
  watchers: number;
  messages: number;
  events: number;
}

/**
 * Browsers on the flow page, as far as the system can tell: each holds the client server's
 * `GET /flow/api/stream` open and reads every message. Used to show that watching the pipeline does not
 * slow it (npm run bench -- --watch-compare N).
 */
export class FlowWatchers {
  private readonly requests: http.ClientRequest[] = [];
  private readonly counts: WatchedCounts;

  constructor(private readonly clientUrl: string, count: number) {
    this.counts = { watchers: count, messages: 0, events: 0 };
  }

  /** Connects every watcher; resolves once each has its stream open. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.counts.watchers }, () => this.connect()));
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.get(`${this.clientUrl}/flow/api/stream`, { headers: { accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`GET /flow/api/stream answered ${response.statusCode}`));
          response.resume();
          return;
        }
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            this.count(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
        response.on('error', () => undefined);
        resolve();
      });
      request.on('error', reject);
      this.requests.push(request);
    });
  }

  private count(message: string): void {
    this.counts.messages += 1;
    if (!/^event: events$/m.test(message)) return;
    const data = message.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
    try {
      const parsed: unknown = JSON.parse(data);
      if (Array.isArray(parsed)) this.counts.events += parsed.length;
      else if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { events?: unknown }).events)) this.counts.events += (parsed as { events: unknown[] }).events.length;
    } catch {
      // A message the counter does not understand still counts as a message.
    }
  }

  stop(): WatchedCounts {
    for (const request of this.requests) request.destroy();
    return { ...this.counts };
  }
}
