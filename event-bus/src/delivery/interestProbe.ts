import type { HttpTransport } from '@blog/service-kit';
import { z } from 'zod';
import type { LogRow } from '../store/eventLog';
import { parsedOrNull } from '@blog/contracts';

const interestsSchema = z.object({ types: z.array(z.string()) });

export interface InterestProbeOptions {
  /** The subscriber's events URL: asked with GET, delivered to with POST. */
  url: string;
  http: HttpTransport;
}

/**
 * A subscriber may answer `GET <its events URL>` with `{"types": [...]}`, the event types it handles;
 * the others are then not sent to it. One that does not answer so (a course-style service) gets all.
 */
export class InterestProbe {
  private readonly url: string;
  private readonly http: HttpTransport;
  /** The event types the subscriber said it handles; null: it did not say, so it gets every event. */
  private wanted: ReadonlySet<string> | null = null;
  private known = false;

  constructor({ url, http }: InterestProbeOptions) {
    this.url = url;
    this.http = http;
  }

  /** True until the subscriber has answered, and again after forget(). */
  get needsAsking(): boolean {
    return !this.known;
  }

  get types(): string[] | null {
    return this.wanted ? [...this.wanted] : null;
  }

  /** Asks the subscriber; throws when it cannot be reached (what it said before still holds then). */
  async ask(): Promise<void> {
    const answer = await this.http.send('GET', this.url);
    const parsed = answer.status === 200 ? interestsSchema.safeParse(parsedOrNull(answer.text)) : null;
    this.wanted = parsed?.success ? new Set(parsed.data.types) : null;
    this.known = true;
  }

  /** The subscriber may come back as a new version that handles other types: ask again before the next delivery. */
  forget(): void {
    this.known = false;
  }

  /** The rows the subscriber wants. */
  pick(rows: LogRow[]): LogRow[] {
    const wanted = this.wanted;
    return wanted ? rows.filter((row) => wanted.has(row.type)) : rows;
  }
}
