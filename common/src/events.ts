import { z } from 'zod';

/** Longest id any publisher may use; ours are UUIDs. */
export const MAX_ID_LENGTH = 100;
export const MAX_TITLE_LENGTH = 200;
export const MAX_COMMENT_LENGTH = 2000;

const entityId = z.string().min(1).max(MAX_ID_LENGTH);

export const commentStatusSchema = z.enum(['pending', 'approved', 'rejected']);
export type CommentStatus = z.infer<typeof commentStatusSchema>;
export type FinalCommentStatus = Exclude<CommentStatus, 'pending'>;

export const postCreatedSchema = z.object({
  type: z.literal('PostCreated'),
  data: z.object({ id: entityId, title: z.string().max(MAX_TITLE_LENGTH) }),
});

const commentFields = {
  id: entityId,
  postId: entityId,
  content: z.string().max(MAX_COMMENT_LENGTH),
};

export const commentCreatedSchema = z.object({
  type: z.literal('CommentCreated'),
  data: z.object({ ...commentFields, status: z.literal('pending') }),
});

export const commentModeratedSchema = z.object({
  type: z.literal('CommentModerated'),
  data: z.object({ ...commentFields, status: commentStatusSchema }),
});

export const commentUpdatedSchema = z.object({
  type: z.literal('CommentUpdated'),
  data: z.object({ ...commentFields, status: commentStatusSchema }),
});

/** Every event the blog's services understand, discriminated on `type`. */
export const knownEventSchema = z.discriminatedUnion('type', [
  postCreatedSchema,
  commentCreatedSchema,
  commentModeratedSchema,
  commentUpdatedSchema,
]);

export type KnownEvent = z.infer<typeof knownEventSchema>;
export type EventType = KnownEvent['type'];
export type EventOf<T extends EventType> = Extract<KnownEvent, { type: T }>;
export type PostCreated = EventOf<'PostCreated'>;
export type CommentCreated = EventOf<'CommentCreated'>;
export type CommentModerated = EventOf<'CommentModerated'>;
export type CommentUpdated = EventOf<'CommentUpdated'>;

export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set<EventType>([
  'PostCreated',
  'CommentCreated',
  'CommentModerated',
  'CommentUpdated',
]);

export function isKnownEventType(type: string): type is EventType {
  return KNOWN_EVENT_TYPES.has(type);
}

/** Makes a switch over event types exhaustive: a new event type that a handler forgets fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
