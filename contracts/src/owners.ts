import type { EventType } from './events';

/** The services that publish events, each with a credential of its own. */
export type PublisherName = 'posts' | 'comments' | 'moderation';

/**
 * Who may publish each event type: the one map the bus (BUS_CREDENTIALS) and NATS (subject
 * permissions) enforce. An event's source is its publisher's, `/<name>`, whatever the body says.
 */
export const EVENT_OWNERS: Readonly<Record<EventType, PublisherName>> = {
  PostCreated: 'posts',
  CommentCreated: 'comments',
  CommentUpdated: 'comments',
  CommentModerated: 'moderation',
};

export const sourceOf = (name: string): string => `/${name}`;

/**
 * Callers that only read: the client server, which shows the log and the subscribers on the flow page.
 * They may publish nothing at all, not even a type nobody owns.
 */
export const READ_ONLY_CALLERS: readonly string[] = ['client'];

/**
 * The caller that runs the blog rather than being part of it: it alone may send dead letters back, and,
 * with credentials, publish an event type nobody owns (a new type is given an owner here when its
 * service is added, so no service needs that right).
 */
export const OPERATOR = 'operator';

/** The event types `name` may publish: its own known types (types nobody owns: the operator only). */
export function ownedTypes(name: string): EventType[] {
  return (Object.keys(EVENT_OWNERS) as EventType[]).filter((type) => EVENT_OWNERS[type] === name);
}
