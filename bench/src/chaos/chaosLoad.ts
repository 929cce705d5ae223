import { HttpTransport, describeHttpFailure, neverReached } from '@blog/service-kit';
import type { SeededRandom } from './random';

/**
 * What a write request came to. `acknowledged`: answered 201, so it must end up in the view exactly
 * once. `refused`: answered with anything else but 504, or the connection was refused (nothing
 * received it), so it must never appear. `unanswered`: answered 504 (outcome unknown), or the connection
 * broke or timed out after the request was sent (the service was killed mid-request), so it may appear,
 * at most once.
 */
export type Outcome = 'acknowledged' | 'refused' | 'unanswered';

export interface WriteRecord {
  kind: 'post' | 'comment';
  /** A marker unique to this request, in the post's title or the comment's text. */
  marker: string;
  text: string;
  outcome: Outcome;
  /** The HTTP status, or why there was none (e.g. ECONNREFUSED). */
  status: number | string | null;
  /** The id the service answered with, when acknowledged. */
  id?: string;
  postId?: string;
  /** When the request was sent, in ms since the load started: lines a failure up with the kills. */
  sentAtMs: number;
}

/** Where to send writes: every process of posts and of comments (one each with the embedded engine). */
export interface LoadTargets {
  posts: string[];
  comments: string[];
}

/** Long enough for a publish whose outcome is unknown to be settled by the bus client's retries. */
const REQUEST_TIMEOUT_MS = 20_000;

/** Several clients writing posts and comments (one in ten with "orange") until stopped. */
export class ChaosLoad {
  readonly records: WriteRecord[] = [];
  private readonly http = new HttpTransport(REQUEST_TIMEOUT_MS);
  private stopped = false;
  private counter = 0;
  private running: Promise<void>[] = [];
  private startedAt = Date.now();

  constructor(
    private readonly targets: () => LoadTargets,
    private readonly random: SeededRandom,
  ) {}

  start(clients: number): void {
    this.startedAt = Date.now();
    this.running = Array.from({ length: clients }, (_, client) => this.client(client));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
    await this.http.close();
  }

  private acknowledgedPosts(): string[] {
    return this.records.filter((r) => r.kind === 'post' && r.outcome === 'acknowledged').map((r) => r.id!);
  }

  private async client(client: number): Promise<void> {
    while (!this.stopped) {
      const posts = this.acknowledgedPosts();
      if (posts.length === 0 || this.random.chance(0.15)) await this.write('post', client);
      else await this.write('comment', client, this.random.pick(posts));
      await new Promise((resolve) => setTimeout(resolve, this.random.int(5, 30)));
    }
  }

  private async write(kind: 'post' | 'comment', client: number, postId?: string): Promise<void> {
    this.counter += 1;
    const marker = `chaos-${client}-${this.counter}`;
    const text = kind === 'post' ? `Post ${marker}` : this.random.chance(0.1) ? `${marker} has an orange` : `${marker} looks fine`;
    const { posts, comments } = this.targets();
    const replicas = kind === 'post' ? posts : comments;
    const path = kind === 'post' ? '/posts' : `/posts/${postId}/comments`;
    const body = JSON.stringify(kind === 'post' ? { title: text } : { content: text });
    const record: WriteRecord = { kind, marker, text, outcome: 'unanswered', status: null, postId, sentAtMs: Date.now() - this.startedAt };
    this.records.push(record);
    // A refused connection reached no one, and a 503 stored nothing, so the next replica is tried, as a
    // Kubernetes Service routes around a dead or unready pod; the write is refused only if every one refuses.
    const first = this.counter % replicas.length;
    for (let tried = 0; tried < replicas.length; tried += 1) {
      try {
        const answer = await this.http.send('POST', `${replicas[(first + tried) % replicas.length]}${path}`, body);
        record.status = answer.status;
        // 504 is "outcome unknown" (the write may still appear), so it counts with the unanswered.
        record.outcome = answer.status === 201 ? 'acknowledged' : answer.status === 504 ? 'unanswered' : 'refused';
        if (answer.status === 201) record.id = (JSON.parse(answer.text) as { id: string }).id;
        if (answer.status !== 503) return;
      } catch (error) {
        record.status = describeHttpFailure(error);
        record.outcome = neverReached(error) ? 'refused' : 'unanswered';
        if (record.outcome === 'unanswered') return;
      }
    }
  }
}
