import { wholeView } from './wholeView';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BLOG_SERVICES, buildEnvelope, type Envelope, type KnownEvent } from '@blog/contracts';
import { SqliteStore } from '@blog/event-bus/store';
import { LocalSystem } from '@blog/launcher';

const COMMENTS_PER_POST = 100;

/** The events of one comment's life: created, moderated, updated; every hundredth starts a new post. */
function* blogHistory(eventCount: number, counts: { posts: number; comments: number }): Generator<Envelope> {
  let produced = 0;
  let postId = '';
  let comment = 0;
  const emit = (event: KnownEvent, source: string) => {
    produced += 1;
    return buildEnvelope(event, source);
  };
  while (produced < eventCount) {
    if (comment % COMMENTS_PER_POST === 0) {
      postId = randomUUID();
      counts.posts += 1;
      yield emit({ type: 'PostCreated', data: { id: postId, title: `Replayed post ${comment / COMMENTS_PER_POST}` } }, '/posts');
    }
    const data = { id: randomUUID(), postId, content: `Replayed comment ${comment}` };
    const status = comment % 10 === 0 ? 'rejected' : 'approved';
    counts.comments += 1;
    for (const [event, source] of [
      [{ type: 'CommentCreated', data: { ...data, status: 'pending' } }, '/comments'],
      [{ type: 'CommentModerated', data: { ...data, status } }, '/moderation'],
      [{ type: 'CommentUpdated', data: { ...data, status } }, '/comments'],
    ] as const) {
      if (produced >= eventCount) return;
      yield emit(event as KnownEvent, source);
    }
    comment += 1;
  }
}

export interface ReplayResult {
  events: number;
  /** What the generated log holds, to compare with what query rebuilt. */
  expected: { posts: number; comments: number };
  writeSeconds: number;
  logBytes: number;
  busStartSeconds: number;
  queryReadySeconds: number;
  posts: number;
  comments: number;
  busPeakRssBytes: number;
  queryPeakRssBytes: number;
}

/** Fills a log with `eventCount` events, then times a query service that replays it from the start. */
export async function runReplay(eventCount: number, onProgress: (written: number) => void): Promise<ReplayResult> {
  const system = await LocalSystem.create({ LOG_LEVEL: 'warn' });
  try {
    const writeStart = performance.now();
    const log = new SqliteStore(system.dataDir);
    let batch: Envelope[] = [];
    let written = 0;
    const expected = { posts: 0, comments: 0 };
    for (const envelope of blogHistory(eventCount, expected)) {
      batch.push(envelope);
      if (batch.length === 5000) {
        written += (await log.append(batch)).length;
        batch = [];
        onProgress(written);
      }
    }
    if (batch.length > 0) written += (await log.append(batch)).length;
    onProgress(written);
    // Every subscriber had seen the whole log before "restarting": only the replay itself is measured.
    const subscribers = BLOG_SERVICES.map((name) => `${system.url(name)}/events`);
    log.savePositions(new Map(subscribers.map((url) => [url, log.lastSeq])));
    await log.close();
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const logBytes = (await import('node:fs')).statSync(`${system.dataDir}/events.db`).size;

    const busStart = performance.now();
    await system.services['event-bus'].start();
    const busStartSeconds = (performance.now() - busStart) / 1000;
    const queryStart = performance.now();
    await system.services.query.start();
    const queryReadySeconds = (performance.now() - queryStart) / 1000;

    const view = await wholeView(system.url('query'));
    return {
      events: written,
      expected,
      writeSeconds,
      logBytes,
      busStartSeconds,
      queryReadySeconds,
      posts: Object.keys(view).length,
      comments: Object.values(view).reduce((total, post) => total + post.comments.length, 0),
      busPeakRssBytes: system.services['event-bus'].usage()?.peakRssBytes ?? 0,
      queryPeakRssBytes: system.services.query.usage()?.peakRssBytes ?? 0,
    };
  } finally {
    await system.stopAll();
  }
}
