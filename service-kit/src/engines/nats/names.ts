/** The blog's events: one stream, one subject per event type (`blog.events.CommentCreated`). */
export const EVENTS_STREAM = 'BLOG_EVENTS';
export const EVENTS_SUBJECTS = 'blog.events.>';
/**
 * Events a durable consumer gave up on, one subject per consumer (`blog.dead.moderation`), and the ones
 * sent back to it to try again (`blog.retry.moderation`), which its replicas read like live events.
 */
export const DEAD_LETTER_STREAM = 'BLOG_DEAD_LETTERS';
export const DEAD_LETTER_SUBJECTS = 'blog.dead.>';
export const RETRY_SUBJECTS = 'blog.retry.>';

export const subjectOf = (type: string) => `blog.events.${type}`;
export const typeOfSubject = (subject: string) => subject.slice('blog.events.'.length);
export const deadLetterSubjectOf = (consumer: string) => `blog.dead.${consumer}`;
export const retrySubjectOf = (consumer: string) => `blog.retry.${consumer}`;

/**
 * The subject filter for a set of event types. nats-server 2.9 takes one filter per consumer, so
 * several types mean the whole stream, and the consumer skips the others.
 */
export function filterFor(types: readonly string[]): string {
  return types.length === 1 ? subjectOf(types[0]!) : EVENTS_SUBJECTS;
}

/** The durable consumer a service's replicas share, named after the service: `/moderation` → `moderation`. */
export function durableNameOf(source: string): string {
  const name = source.replace(/^\/+/, '').replace(/[^A-Za-z0-9_-]/g, '_');
  return name || 'anonymous';
}

/**
 * How long one pull request waits for messages before the client sends another (the client's default is
 * 30 s). A pull held by a server that dies is only noticed after two missed heartbeats (half of this
 * each), so with the default a consumer whose server was killed sat idle for 30 s; 5 s bounds that.
 */
export const PULL_EXPIRES_MS = 5_000;
