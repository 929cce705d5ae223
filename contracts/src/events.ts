import { z } from 'zod';
import { ENTITY_ID_PATTERN, MAX_COMMENT_LENGTH, MAX_ID_LENGTH, MAX_TITLE_LENGTH } from './limits';

export const entityIdSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(ENTITY_ID_PATTERN, 'an id is letters, digits, - and _, starting with a letter or digit');

export const commentStatusSchema = z.enum(['pending', 'approved', 'rejected']);
export type CommentStatus = z.infer<typeof commentStatusSchema>;
export type FinalCommentStatus = Exclude<CommentStatus, 'pending'>;

export const postCreatedSchema = z.object({
  type: z.literal('PostCreated'),
  data: z.object({ id: entityIdSchema, title: z.string().max(MAX_TITLE_LENGTH) }),
});

const commentFields = {
  id: entityIdSchema,
  postId: entityIdSchema,
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

/** Every event the blog's services understand, discriminated on `type`. A new event type is added here only. */
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

/** The known types, read off the union above so the list cannot drift from the schemas. */
export const EVENT_TYPES: readonly EventType[] = knownEventSchema.options.map((schema) => schema.shape.type.value);

const knownTypes: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isKnownEventType(type: string): type is EventType {
  return knownTypes.has(type);
}

/** Makes a switch over event types exhaustive: a new event type that a handler forgets fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
