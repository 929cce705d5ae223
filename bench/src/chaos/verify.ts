import { expectedStatus } from '../pipeline';
import type { ViewPost } from '../wholeView';
import type { WriteRecord } from './chaosLoad';

export type { ViewPost } from '../wholeView';

export interface StoredEvent {
  seq: number;
  id: string;
  source: string;
  type: string;
  data: Record<string, unknown>;
}

export interface Verdict {
  ok: boolean;
  problems: string[];
  /** How many of the writes left without an answer did appear (each at most once). */
  unansweredThatAppeared: number;
}

const MAX_LISTED = 10;

/** Every text in the view, with how many times it appears; markers are unique per request. */
function viewTexts(view: Record<string, ViewPost>) {
  const counts = new Map<string, number>();
  const bump = (text: string) => counts.set(text, (counts.get(text) ?? 0) + 1);
  for (const post of Object.values(view)) {
    bump(post.title);
    for (const comment of post.comments) bump(comment.content);
  }
  return counts;
}

/** What one kind of client's writes came to, from its side and in the final view. */
export interface WriteCounts {
  sent: number;
  acknowledged: number;
  refused: number;
  unanswered: number;
  /** Unanswered writes that are in the view (once each). */
  unansweredThatAppeared: number;
  /** Writes in the view more than once. */
  duplicated: number;
  /** Acknowledged writes missing from the view. */
  lost: number;
  /** Requests sent beyond the first, over all writes (keyed clients retry). */
  retries: number;
  refusedByStatus: Record<string, number>;
}

export function countsOf(records: WriteRecord[], view: Record<string, ViewPost>): WriteCounts {
  const texts = viewTexts(view);
  const count = (outcome: string) => records.filter((record) => record.outcome === outcome).length;
  const refusedByStatus: Record<string, number> = {};
  for (const record of records.filter((r) => r.outcome === 'refused')) refusedByStatus[String(record.status)] = (refusedByStatus[String(record.status)] ?? 0) + 1;
  return {
    sent: records.length,
    acknowledged: count('acknowledged'),
    refused: count('refused'),
    unanswered: count('unanswered'),
    unansweredThatAppeared: records.filter((record) => record.outcome === 'unanswered' && texts.has(record.text)).length,
    duplicated: records.filter((record) => (texts.get(record.text) ?? 0) > 1).length,
    lost: records.filter((record) => record.outcome === 'acknowledged' && !texts.has(record.text)).length,
    retries: records.reduce((sum, record) => sum + Math.max(0, record.attempts - 1), 0),
    refusedByStatus,
  };
}

/** True when every acknowledged write is in the view with its final status (what the run waits for). */
export function converged(records: WriteRecord[], view: Record<string, ViewPost>): boolean {
  const comments = new Map(Object.values(view).flatMap((post) => post.comments.map((c) => [c.id, c.status] as const)));
  return records.every((record) => {
    if (record.outcome !== 'acknowledged') return true;
    if (record.kind === 'post') return record.id! in view;
    return comments.get(record.id!) === expectedStatus(record.text);
  });
}

/**
 * How far each of `commentIds` got along the pipeline, as the log shows it: which of CommentCreated,
 * CommentModerated and CommentUpdated are stored for them, with their seqs, so a failed run says
 * which service stopped short.
 */
export function pipelineTrace(commentIds: string[], log: StoredEvent[]): string {
  const wanted = new Set(commentIds);
  const seqsByType = new Map<string, number[]>();
  for (const event of log) {
    if (!wanted.has(String(event.data.id))) continue;
    const seqs = seqsByType.get(event.type) ?? [];
    seqs.push(event.seq);
    seqsByType.set(event.type, seqs);
  }
  return ['CommentCreated', 'CommentModerated', 'CommentUpdated']
    .map((type) => {
      const seqs = seqsByType.get(type) ?? [];
      return `${type} ${seqs.length} of ${commentIds.length}${seqs.length > 0 ? ` (seq ${Math.min(...seqs)}-${Math.max(...seqs)})` : ''}`;
    })
    .join(', ');
}

/** Checks the run's invariants against what the load generator saw answered. */
export function verify(records: WriteRecord[], view: Record<string, ViewPost>, log: StoredEvent[]): Verdict {
  const problems: string[] = [];
  const report = (what: string, items: string[]) => {
    if (items.length > 0) problems.push(`${items.length} ${what}: ${items.slice(0, MAX_LISTED).join(', ')}`);
  };
  const texts = viewTexts(view);
  const comments = new Map(Object.values(view).flatMap((post) => post.comments.map((c) => [c.id, c] as const)));

  const acknowledged = records.filter((r) => r.outcome === 'acknowledged');
  report(
    'acknowledged writes missing from the view',
    acknowledged.filter((r) => !texts.has(r.text)).map((r) => r.marker),
  );
  report(
    'writes in the view more than once',
    records.filter((r) => (texts.get(r.text) ?? 0) > 1).map((r) => r.marker),
  );
  report(
    'acknowledged comments with the wrong final status',
    acknowledged
      .filter((r) => r.kind === 'comment' && comments.has(r.id!) && comments.get(r.id!)!.status !== expectedStatus(r.text))
      .map((r) => `${r.marker} is ${comments.get(r.id!)!.status}`),
  );
  const loggedTexts = new Set(log.map((event) => String(event.data.title ?? event.data.content ?? '')));
  report(
    'writes answered non-201 that appeared anyway',
    records.filter((r) => r.outcome === 'refused' && (texts.has(r.text) || loggedTexts.has(r.text))).map((r) => `${r.marker} (${r.status})`),
  );
  const pending = [...comments.values()].filter((c) => c.status === 'pending').map((c) => c.id);
  report('comments still pending', pending);
  if (pending.length > 0) problems.push(`the pending comments' events in the log: ${pipelineTrace(pending, log)}`);

  const seqGaps = log.filter((event, index) => event.seq !== index + 1).map((event) => `seq ${event.seq} at position ${log.indexOf(event) + 1}`);
  report('gaps or disorder in the log', seqGaps);
  const seen = new Set<string>();
  const duplicateIds = log.filter((event) => {
    const key = `${event.source} ${event.id}`;
    const repeated = seen.has(key);
    seen.add(key);
    return repeated;
  });
  report('duplicate event ids in the log', duplicateIds.map((event) => `${event.source} ${event.id}`));

  const unansweredThatAppeared = records.filter((r) => r.outcome === 'unanswered' && texts.has(r.text)).length;
  return { ok: problems.length === 0, problems, unansweredThatAppeared };
}
