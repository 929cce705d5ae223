/**
 * The events' contract: what counts as visible text, each event type's schema, and the CloudEvents
 * envelope every event travels in.
 */
import { z } from 'zod';
import { ENTITY_ID_PATTERN, MAX_COMMENT_LENGTH, MAX_ID_LENGTH, MAX_TITLE_LENGTH, EVENT_ID_PATTERN, EVENT_TYPE_PATTERN, MAX_EVENT_TYPE_LENGTH } from './limits';
import { v5 as uuidv5 } from 'uuid';

/**
 * A character a reader can see: a letter, digit, punctuation or symbol. Spaces and the invisible
 * format characters (zero-width space and joiners, the byte-order mark, bidi controls) are not, so a
 * title made only of them is as empty as one made of spaces.
 */
const VISIBLE_CHARACTER = /[\p{L}\p{N}\p{P}\p{S}]/u;

export function hasVisibleCharacter(text: string): boolean {
  return VISIBLE_CHARACTER.test(text);
}

/** A title or a comment as a person writes it: trimmed, with something visible in it, at most `max` characters. */
export function visibleTextSchema(field: string, max: number) {
  return z
    .string()
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max)
    .refine(hasVisibleCharacter, `${field} must contain a visible character (spaces and zero-width characters alone are empty)`);
}

/**
 * JSON read from something not trusted to send it (a subscriber's answer, a stranger's NATS message), or
 * null when it is not JSON.
 */
export function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

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

export const CLOUDEVENTS_VERSION = '1.0';
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * CloudEvents extension attribute: the id of the HTTP request that caused the event, carried on to the
 * events it causes in turn, so one grep follows a comment from its POST through moderation to the view.
 */
export const REQUEST_ID_PATTERN = /^[\w.:-]{1,100}$/;
export const requestIdSchema = z.string().regex(REQUEST_ID_PATTERN, 'letters, digits, _ . : - only, at most 100');

/** What a publisher may send to the bus: a CloudEvent, or the course's bare `{type, data}`. */
export const publishRequestSchema = z
  .object({
    specversion: z.literal(CLOUDEVENTS_VERSION).optional(),
    id: z.string().regex(EVENT_ID_PATTERN, 'visible ASCII (no spaces or control characters), 1 to 100 characters').optional(),
    source: z.string().min(1).max(500).optional(),
    type: z.string().max(MAX_EVENT_TYPE_LENGTH).regex(EVENT_TYPE_PATTERN, 'letters, digits, _ and - in parts joined by single dots'),
    time: z.iso.datetime({ offset: true }).optional(),
    datacontenttype: z.literal(JSON_CONTENT_TYPE).optional(),
    requestid: requestIdSchema.optional(),
    data: z.unknown(),
  })
  .refine((event) => event.data !== undefined, { path: ['data'], message: 'data is required' });

export type PublishRequest = z.infer<typeof publishRequestSchema>;

/** An event as the bus stores and delivers it: a CloudEvent plus the bus's position `seq`. */
export const storedEventSchema = z.object({
  specversion: z.literal(CLOUDEVENTS_VERSION),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.string(),
  datacontenttype: z.string().optional(),
  requestid: z.string().optional(),
  data: z.unknown(),
  seq: z.number().int().positive(),
});

export type StoredEvent = z.infer<typeof storedEventSchema>;

/** The fields of a stored event that replaying it needs. */
export const logEntrySchema = z.object({
  seq: z.number().int().positive(),
  id: z.string(),
  type: z.string(),
  data: z.unknown(),
  /** Set by an engine that found the entry forged (NATS: a body that names another type than its subject): passed, never applied. */
  refused: z.string().optional(),
});

export type LogEntry = z.infer<typeof logEntrySchema>;

/** A page of the log as a replaying service reads it; a known event's data is checked when it is applied. */
export const logPageSchema = z.array(logEntrySchema);
export type Envelope = Omit<StoredEvent, 'seq'>;

/** What a service accepts at its own `POST /events`: the stored envelope, or a bare `{type, data}`. */
export const receivedEventSchema = z
  .object({
    type: z.string().min(1).max(200),
    data: z.unknown(),
    id: z.string().optional(),
    seq: z.number().int().positive().optional(),
    requestid: z.string().optional(),
  })
  .refine((event) => event.data !== undefined, { path: ['data'], message: 'data is required' });

export type ReceivedEvent = z.infer<typeof receivedEventSchema>;

export function buildEnvelope(
  event: { type: string; data: unknown },
  source: string,
  // The global Web Crypto, so the contracts load in a browser as well as in Node.
  id: string = globalThis.crypto.randomUUID(),
  now: Date = new Date(),
  requestId?: string,
): Envelope {
  return {
    specversion: CLOUDEVENTS_VERSION,
    id,
    source,
    type: event.type,
    time: now.toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    ...(requestId ? { requestid: requestId } : {}),
    data: event.data,
  };
}

// Fixed namespace so every process derives the same id for the same fact.
const DERIVED_ID_NAMESPACE = '6f1c2a52-9f0e-4a43-9d8e-2b7f0c6e5a11';

/**
 * An event id that depends only on what the event is about, so a handler that runs twice for the same
 * input publishes the same id twice and the bus stores it once.
 */
export function derivedEventId(type: KnownEvent['type'], key: string): string {
  return uuidv5(`${type}:${key}`, DERIVED_ID_NAMESPACE);
}
