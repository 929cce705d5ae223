/**
 * `POST /events`, served in front of Express: the bus's publish endpoint and every service's delivery
 * endpoint, which share the body reading and the caller check.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { jsonBodyReader, knownErrorAnswer, AppError, detailsFromZod, type ErrorDetail } from './errors';
import type { Logger } from './logger';
import type { ServiceMetrics } from './operations';
import { callerCheck, type Caller, type SecurityOptions } from './guards';
import { EVENTS_BODY_LIMIT_BYTES, MAX_EVENT_BATCH, buildEnvelope, isKnownEventType, knownEventSchema, receivedEventSchema, type Delivered, type Envelope, type EventEngine, type KnownEvent, type OutgoingEvent } from '@blog/contracts';
import { Router } from 'express';
import { z } from 'zod';
import type { EventReceiver } from './receiver';

/** What an event endpoint answers: a status and a JSON body. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** The work behind an event endpoint, given the checked JSON body. */
export type JsonPostHandler = (body: unknown, headers: IncomingHttpHeaders, caller: Caller) => Promise<JsonAnswer>;

/** `POST <path>` with a JSON body: the bus's publish endpoint, or a service's delivery endpoint. */
export interface EventEndpoint {
  path: string;
  /** Largest body accepted, in bytes; a bigger one is answered 413. */
  limitBytes: number;
  handle: JsonPostHandler;
}

export interface EventEndpointOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  security?: SecurityOptions;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function pathOf(url = ''): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The event traffic between the bus and the services (publishes to the bus, deliveries to a service) is
 * most of the requests each of them answers, all from our own processes. Every `POST <path>` is served
 * here, in front of Express: measured on the 2-core machine, Express's request set-up and routing cost a
 * small POST about as much again as the work itself, and a comment crosses six such requests on its way
 * to the view. The body is read as the API's is (see jsonBodyReader), errors are answered as the API's
 * are (knownErrorAnswer), and the requests count in the same HTTP metrics. Everything else goes to `app`.
 */
export function withEventEndpoint(app: RequestListener, endpoint: EventEndpoint, options: EventEndpointOptions): RequestListener {
  const identify = callerCheck(options.security ?? {});
  const readBody = jsonBodyReader(endpoint.limitBytes);
  const labels = { method: 'POST', route: endpoint.path };
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const caller = identify(req.headers.authorization);
      if (caller instanceof AppError) throw caller;
      const result = await endpoint.handle(await readBody(req, res), req.headers, caller);
      answer(res, result.status, result.body);
    } catch (error) {
      const known = knownErrorAnswer(error);
      if (!known) options.logger.error({ err: error, method: req.method, path: endpoint.path }, 'unhandled error');
      if (res.headersSent) return;
      if (known) answer(res, known.status, known.body);
      else answer(res, 500, { error: 'internal error', details: [] });
    }
  };
  return (req, res) => {
    if (req.method !== 'POST' || pathOf(req.url) !== endpoint.path) {
      app(req, res);
      return;
    }
    const started = performance.now();
    res.once('finish', () => options.metrics.recordRequest({ ...labels, status: String(res.statusCode) }, (performance.now() - started) / 1000));
    void serve(req, res);
  };
}

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

/** Validates a whole delivery before handling any of it, so a bad batch changes nothing; unknown types are counted, not handled. */
function parseDelivery(body: unknown): { known: Delivered[]; received: number } {
  const items: unknown[] = Array.isArray(body) ? body : [body];
  // Checked before any item is: a 1 MiB body holds half a million tiny items, each one a problem.
  if (items.length === 0 || items.length > MAX_EVENT_BATCH) {
    throw new AppError(400, 'invalid event delivery', [{ message: `a batch holds 1 to ${MAX_EVENT_BATCH} events; this one has ${items.length}` }]);
  }
  const details: ErrorDetail[] = [];
  const known: Delivered[] = [];
  items.forEach((item, index) => {
    const prefix = Array.isArray(body) ? `${index}.` : '';
    const type = (item as { type?: unknown } | null)?.type;
    // Known types are parsed once, envelope and data together; anything else only needs a valid envelope.
    const isKnown = typeof type === 'string' && isKnownEventType(type);
    const result = isKnown ? knownDeliverySchema.safeParse(item) : receivedEventSchema.safeParse(item);
    if (!result.success) {
      details.push(...detailsFromZod(result.error).map((d) => ({ ...d, path: prefix + d.path })));
      return;
    }
    if (!isKnown) return;
    const { id, seq, requestid, ...event } = result.data as KnownEvent & z.infer<z.ZodObject<typeof deliveryFields>>;
    known.push({ event: event as KnownEvent, context: { id, seq, requestId: requestid } });
  });
  if (details.length > 0) throw new AppError(400, 'invalid event', details);
  return { known, received: items.length };
}

/**
 * `POST /events` for engines that push (the embedded bus): one event or an ordered batch. Answers 503
 * until the service has replayed the log, so the bus keeps the delivery and retries rather than having it
 * applied ahead of older events.
 */
export function deliveryEndpoint(receiver: EventReceiver, engine: EventEngine): EventEndpoint {
  return {
    path: '/events',
    limitBytes: EVENTS_BODY_LIMIT_BYTES,
    handle: (body, headers) => receiveDelivery(body, headers, receiver, engine),
  };
}

/** `GET /events`: the bus asks this before delivering, so it can skip the events this service would ignore. */
export function interestRoute(receiver: EventReceiver): Router {
  const router = Router();
  router.get('/events', (_req, res) => {
    res.json({ types: receiver.types });
  });
  return router;
}

async function receiveDelivery(body: unknown, headers: IncomingHttpHeaders, receiver: EventReceiver, engine: EventEngine): Promise<JsonAnswer> {
  if (!receiver.ready) throw new AppError(503, 'not ready: still replaying the event log or shutting down');
  const { known, received } = parseDelivery(body);
  const held = receiver.heldBack(known);
  if (held) await held;
  // Handlers change state synchronously, in order; their follow-ups are stored together, so a batch of
  // comments is moderated with one write to the log, not one after another.
  const outgoing = receiver.receive(known);
  const answer: DeliveryAnswer = { received, handled: known.length, ignored: received - known.length };
  if (outgoing.length > 0) {
    if (headers[FOLLOW_UPS_HEADER] === FOLLOW_UPS_IN_ANSWER) answer.publish = followUpEnvelopes(outgoing, engine.source);
    // Acknowledged only when every follow-up is stored; if one fails, the bus redelivers the batch.
    else await Promise.all(outgoing.map(({ event, id, requestId }) => engine.publish(event, { id, requestId })));
  }
  return { status: 200, body: answer };
}

function followUpEnvelopes(outgoing: OutgoingEvent[], source: string): Envelope[] {
  const now = new Date();
  return outgoing.map(({ event, id, requestId }) => buildEnvelope(event, source, id, now, requestId));
}
