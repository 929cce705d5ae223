import http from 'node:http';
import { performance } from 'node:perf_hooks';

interface CommentChange {
  kind: 'comment';
  postId: string;
  comment: { id: string; content: string; status: string };
}

/**
 * Follows query's `GET /updates` stream and notes the moment each comment reached a final status in the
 * view, so end-to-end latency is measured without polling the whole view.
 */
export class FinalStatusWatcher {
  readonly finalAt = new Map<string, { at: number; status: string }>();
  private request: http.ClientRequest | null = null;
  private waiters: { ids: string[]; resolve: () => void }[] = [];

  constructor(private readonly queryUrl: string) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.request = http.get(`${this.queryUrl}/updates`, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /updates answered ${res.statusCode}`));
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            this.onMessage(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        });
        resolve();
      });
      this.request.on('error', reject);
    });
  }

  private onMessage(message: string): void {
    const data = message.split('\n').find((line) => line.startsWith('data: '));
    if (!data || !message.includes('event: comment')) return;
    const change = JSON.parse(data.slice(6)) as CommentChange;
    if (change.comment.status === 'pending' || this.finalAt.has(change.comment.id)) return;
    this.finalAt.set(change.comment.id, { at: performance.now(), status: change.comment.status });
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.ids.every((id) => this.finalAt.has(id))) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves when every id has a final status, or rejects after `timeoutMs`. */
  waitForAll(ids: string[], timeoutMs: number): Promise<void> {
    if (ids.every((id) => this.finalAt.has(id))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = ids.filter((id) => !this.finalAt.has(id)).length;
        reject(new Error(`${missing} of ${ids.length} comments had no final status after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({
        ids,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  close(): void {
    this.request?.destroy();
  }
}
