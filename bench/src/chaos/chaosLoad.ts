import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { RETRIED_WRITE_STATUSES, WRITE_RETRY } from '@blog/contracts';
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
  /** Sent with an Idempotency-Key and retried as the page retries (WRITE_RETRY); false: sent once, as curl would. */
  keyed: boolean;
  /** Requests made for this write: 1, or more for a keyed write that was retried. */
  attempts: number;
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

/**
 * Several clients writing posts and comments (one in ten with "orange") until stopped: some without keys,
 * each write sent once (to another replica only when one refused it outright), and some with keys,
 * retrying as the page does until the write is answered.
 */
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

  start(clients: number, keyedClients = 0): void {
    this.startedAt = Date.now();
    this.running = Array.from({ length: clients + keyedClients }, (_, client) => this.client(client, client >= clients));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
    await this.http.close();
  }

  private acknowledgedPosts(): string[] {
    return this.records.filter((r) => r.kind === 'post' && r.outcome === 'acknowledged').map((r) => r.id!);
  }

  private async client(client: number, keyed: boolean): Promise<void> {
    while (!this.stopped) {
      const posts = this.acknowledgedPosts();
      const kind = posts.length === 0 || this.random.chance(0.15) ? 'post' : 'comment';
      const record = this.record(kind, client, keyed, kind === 'comment' ? this.random.pick(posts) : undefined);
      await (keyed ? this.writeUntilAnswered(record) : this.write(record));
      await sleep(this.random.int(5, 30));
    }
  }

  private record(kind: 'post' | 'comment', client: number, keyed: boolean, postId?: string): WriteRecord {
    this.counter += 1;
    const marker = `chaos-${client}-${this.counter}`;
    const text = kind === 'post' ? `Post ${marker}` : this.random.chance(0.1) ? `${marker} has an orange` : `${marker} looks fine`;
    const record: WriteRecord = { kind, keyed, attempts: 0, marker, text, outcome: 'unanswered', status: null, postId, sentAtMs: Date.now() - this.startedAt };
    this.records.push(record);
    return record;
  }

  private request(record: WriteRecord): { replicas: string[]; path: string; body: string } {
    const { posts, comments } = this.targets();
    return {
      replicas: record.kind === 'post' ? posts : comments,
      path: record.kind === 'post' ? '/posts' : `/posts/${record.postId}/comments`,
      body: JSON.stringify(record.kind === 'post' ? { title: record.text } : { content: record.text }),
    };
  }

  private answered(record: WriteRecord, answer: { status: number; text: string }): void {
    record.status = answer.status;
    // 504 is "outcome unknown" (the write may still appear), so it counts with the unanswered.
    record.outcome = answer.status === 201 ? 'acknowledged' : answer.status === 504 ? 'unanswered' : 'refused';
    if (answer.status === 201) record.id = (JSON.parse(answer.text) as { id: string }).id;
  }

  private async write(record: WriteRecord): Promise<void> {
    const { replicas, path, body } = this.request(record);
    // A refused connection reached no one, and a 503 stored nothing, so the next replica is tried, as a
    // Kubernetes Service routes around a dead or unready pod; the write is refused only if every one refuses.
    const first = this.counter % replicas.length;
    for (let tried = 0; tried < replicas.length; tried += 1) {
      record.attempts += 1;
      try {
        this.answered(record, await this.http.send('POST', `${replicas[(first + tried) % replicas.length]}${path}`, body));
        if (record.status !== 503) return;
      } catch (error) {
        record.status = describeHttpFailure(error);
        record.outcome = neverReached(error) ? 'refused' : 'unanswered';
        if (record.outcome === 'unanswered') return;
      }
    }
  }

  /** As the page sends a write: one key, sent again after no answer, 409, 502, 503 or 504, until about a minute has gone. */
  private async writeUntilAnswered(record: WriteRecord): Promise<void> {
    const key = randomUUID();
    const started = Date.now();
    for (let wait: number = WRITE_RETRY.firstWaitMs; ; wait = Math.min(wait * 2, WRITE_RETRY.maxWaitMs)) {
      const { replicas, path, body } = this.request(record);
      const url = `${replicas[(this.counter + record.attempts) % replicas.length]}${path}`;
      record.attempts += 1;
      try {
        this.answered(record, await this.http.send('POST', url, body, undefined, { 'idempotency-key': key }));
        if (!RETRIED_WRITE_STATUSES.includes(record.status as number)) return;
      } catch (error) {
        record.status = describeHttpFailure(error);
        record.outcome = neverReached(error) ? 'refused' : 'unanswered';
      }
      if (Date.now() - started + wait > WRITE_RETRY.giveUpAfterMs) return;
      await sleep(wait);
    }
  }
}
