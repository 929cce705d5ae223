import { Router } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { BusClient } from './busClient';
import { buildEnvelope, receivedEventSchema, type Envelope, type ReceivedEvent } from './envelope';
import { AppError, detailsFromZod, type ErrorDetail } from './errors';
import { isKnownEventType, knownEventSchema, type EventType, type KnownEvent } from './events';
import type { Lifecycle } from './health';
import type { EventEndpoint, JsonAnswer } from './eventLane';
import { EVENTS_BODY_LIMIT } from './http';
import type { Logger } from './logger';

export interface EventContext {
  id?: string;
  seq?: number;
  /** true when delivered now by the bus; false when replayed from the log at start. */
  live: boolean;
  /** The request that caused the event (its `requestid`), to pass on to the events it causes. */
  requestId?: string;
}

/** An event a handler publishes in reaction to the one it was given; its id is derived from that one. */
export interface FollowUp {
  event: KnownEvent;
  id: string;
}

/**
 * Applies one event, synchronously, in delivery order, and returns the events to publish in reaction
 * (none when replaying: `context.live` is false). The delivery is acknowledged only once they are stored.
 */
export type EventHandler = (event: KnownEvent, context: EventContext) => readonly FollowUp[] | void;

/**
 * Sent by the bus on its deliveries: "put the follow-up events in your answer and I will store them
 * before I count the delivery as done". That saves the subscriber a publish request and its wait for
 * the answer, and stores the follow-ups exactly when the delivery succeeds. Without the header (curl,
 * an older bus) the receiver publishes them itself before answering.
 */
export const FOLLOW_UPS_HEADER = 'x-follow-ups';
export const FOLLOW_UPS_IN_ANSWER = 'in-answer';

/** The answer to a delivery; `publish` only when the bus asked for follow-ups in the answer. */
export interface DeliveryAnswer {
  received: number;
  handled: number;
  ignored: number;
  publish?: Envelope[];
}

/** The envelope fields a handler may use, beside a known event's contract. */
const deliveryFields = {
  id: z.string().optional(),
  seq: z.number().int().positive().optional(),
  requestid: z.string().optional(),
};

/**
 * A delivered known event: its contract plus the envelope fields, as one discriminated union of objects
 * (an intersection would parse every event twice and merge the results: it cost deliveries ~5% of the
 * receiving service's CPU).
 */
const knownDeliverySchema = z.discriminatedUnion(
  'type',
  knownEventSchema.options.map((schema) => schema.extend(deliveryFields)) as unknown as [
    z.ZodObject<z.ZodRawShape>,
    ...z.ZodObject<z.ZodRawShape>[],
  ],
);

interface ParsedItem {
  event: KnownEvent | null;
  received: ReceivedEvent;
}

/** Validates a whole delivery before handling any of it, so a bad batch changes nothing. */
function parseDelivery(body: unknown): ParsedItem[] {
  const items: unknown[] = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw new AppError(400, 'invalid event delivery', [{ message: 'empty batch' }]);
  const details: ErrorDetail[] = [];
  const parsed: ParsedItem[] = [];
  items.forEach((item, index) => {
    const prefix = Array.isArray(body) ? `${index}.` : '';
    const type = (item as { type?: unknown } | null)?.type;
    // Known types are parsed once, envelope and data together; anything else only needs a valid envelope.
    const known = typeof type === 'string' && isKnownEventType(type);
    const result = known ? knownDeliverySchema.safeParse(item) : receivedEventSchema.safeParse(item);
    if (!result.success) {
      details.push(...detailsFromZod(result.error).map((d) => ({ ...d, path: prefix + d.path })));
      return;
    }
    parsed.push({ event: known ? (result.data as KnownEvent) : null, received: result.data as ReceivedEvent });
  });
  if (details.length > 0) throw new AppError(400, 'invalid event', details);
  return parsed;
}

export interface EventsEndpointOptions {
  lifecycle: Lifecycle;
  handle: EventHandler;
  /** The event types `handle` acts on; the bus sends only these (others would be ignored anyway). */
  types: readonly EventType[];
  logger: Logger;
  /** Told about each delivered position, so later catch-ups start after it. */
  onDelivered?: (seq: number) => void;
  /** Where follow-ups go when the bus did not ask for them in the answer; needed if `handle` returns any. */
  bus?: BusClient;
}

/**
 * `POST /events`: one event or an ordered batch. Answers 503 until the service has replayed the log,
 * so the bus keeps the delivery and retries rather than having it applied ahead of older events.
 * `GET /events` tells the bus which types to send.
 */
export function eventsEndpoint(options: EventsEndpointOptions): EventEndpoint {
  const router = Router();
  // The bus asks this before delivering, so it can skip the events this service would ignore.
  router.get('/events', (_req, res) => {
    res.json({ types: options.types });
  });
  return { path: '/events', limitBytes: EVENTS_BODY_LIMIT, router, handle: (body, headers) => receiveDelivery(body, headers, options) };
}

async function receiveDelivery(
  body: unknown,
  headers: IncomingHttpHeaders,
  { lifecycle, handle, logger, onDelivered, bus }: EventsEndpointOptions,
): Promise<JsonAnswer> {
  if (!lifecycle.isReady) {
    throw new AppError(503, 'not ready: still replaying the event log or shutting down');
  }
  const items = parseDelivery(body);
  // Handlers change state synchronously, in order; their follow-ups are stored together, so a batch of
  // comments is moderated with one write to the log, not one after another.
  const followUps: { followUp: FollowUp; requestId?: string }[] = [];
  let handled = 0;
  for (const { event, received } of items) {
    if (event) {
      const context = { id: received.id, seq: received.seq, live: true, requestId: received.requestid };
      for (const followUp of handle(event, context) ?? []) followUps.push({ followUp, requestId: received.requestid });
      handled += 1;
      logger.info({ eventId: received.id, seq: received.seq, type: received.type, requestId: received.requestid }, 'event handled');
    } else {
      logger.debug({ type: received.type, seq: received.seq }, 'ignored unknown event type');
    }
  }
  const answer: DeliveryAnswer = { received: items.length, handled, ignored: items.length - handled };
  if (followUps.length > 0) {
    if (!bus) throw new Error('an event handler returned follow-up events but the events route was given no bus');
    if (headers[FOLLOW_UPS_HEADER] === FOLLOW_UPS_IN_ANSWER) {
      const now = new Date();
      answer.publish = followUps.map(({ followUp, requestId }) => buildEnvelope(followUp.event, bus.source, followUp.id, now, requestId));
    } else {
      // Acknowledged only when every follow-up is stored; if one fails, the bus redelivers the batch.
      await Promise.all(followUps.map(({ followUp, requestId }) => bus.publish(followUp.event, followUp.id, requestId)));
    }
  }
  const lastSeq = items[items.length - 1]?.received.seq;
  if (lastSeq !== undefined) onDelivered?.(lastSeq);
  return { status: 200, body: answer };
}
