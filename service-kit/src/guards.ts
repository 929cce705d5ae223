/**
 * What guards a service's requests and writes: browser headers, CORS and the bus token; the
 * Idempotency-Key that makes a write safe to repeat; and the sealed ids of the events it derives.
 */
import { createHash, timingSafeEqual, createHmac } from 'node:crypto';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from './errors';
import { derivedEventId, type KnownEvent, type PublishReceipt } from '@blog/contracts';
import type { IncomingHttpHeaders } from 'node:http';

/** What a service needs to know to guard itself; read from BUS_TOKEN (or, on the bus, BUS_CREDENTIALS) and CORS_ORIGINS. */
export interface SecurityOptions {
  /** This service's own secret: it presents it to the bus, and the bus presents it back on deliveries; none means no check. */
  busToken?: string;
  /** On the bus: every caller's name and token (posts, comments, moderation, query, operator, ...); none means no check. */
  credentials?: ReadonlyMap<string, string>;
  /** Browser origins allowed to call this service cross-origin; none by default (the client is same-origin). */
  corsOrigins?: readonly string[];
}

/** The header every internal call carries when a token is configured. */
export function busAuthHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

// Digests have equal length whatever was sent, so timingSafeEqual can compare them without a length leak.
const digest = (text: string) => createHash('sha256').update(text).digest();

/** Answers whether a presented Authorization header carries the bus token; anything passes without one. */
export function busTokenCheck(token: string | undefined): (presented: string | undefined) => boolean {
  if (!token) return () => true;
  const expected = digest(`Bearer ${token}`);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expected);
}

/** The 401 for a request whose Authorization header did not carry a token this side knows. */
export function missingTokenError(presented: string | undefined): AppError {
  return new AppError(401, presented ? 'wrong bus token' : 'this endpoint needs a bus token (Authorization: Bearer ...)');
}

/** helmet's headers, for anything a browser may load. */
export function browserHeaders(): RequestHandler {
  return helmet();
}

/** CORS only for the configured origins; none by default, and then no handler at all. */
export function corsFor({ corsOrigins = [] }: SecurityOptions): RequestHandler | null {
  return corsOrigins.length > 0 ? cors({ origin: [...corsOrigins] }) : null;
}

/** Who made a request, from its credential: a name, or null where no credentials are configured at all. */
export interface Caller {
  name: string | null;
}

/** Answers who presented an Authorization header, or the 401 for it. */
export type CallerCheck = (presented: string | undefined) => Caller | AppError;

/** The one name the bus is known by to a service that checks its own token on deliveries. */
export const BUS_CALLER = 'bus';

/**
 * The caller behind a request: with credentials (the bus), the name whose token was presented; with a
 * token of its own (a service), the bus; with neither, anyone, unnamed.
 */
export function callerCheck({ busToken, credentials }: SecurityOptions): CallerCheck {
  if (credentials && credentials.size > 0) {
    const known = [...credentials].map(([name, token]) => ({ name, expected: digest(`Bearer ${token}`) }));
    return (presented) => {
      if (presented === undefined) return missingTokenError(presented);
      const offered = digest(presented);
      // Every entry is compared, so the time taken does not say which name came close.
      let match: string | null = null;
      for (const { name, expected } of known) if (timingSafeEqual(offered, expected)) match = name;
      return match === null ? missingTokenError(presented) : { name: match };
    };
  }
  const accepted = busTokenCheck(busToken);
  const caller = { name: busToken ? BUS_CALLER : null };
  return (presented) => (accepted(presented) ? caller : missingTokenError(presented));
}

/** Express middleware: lets a request through with a valid credential and leaves its caller in `res.locals.caller`. */
export function requireCaller(check: CallerCheck): RequestHandler {
  return (req, res, next) => {
    const caller = check(req.headers.authorization);
    if (caller instanceof AppError) return next(caller);
    res.locals.caller = caller;
    next();
  };
}

/** The 403 for a caller whose credential does not give the right it asked for. */
export function forbidden(message: string, details: { path?: string; message: string }[] = []): AppError {
  return new AppError(403, message, details);
}

/** The header a client sends to make a write safe to repeat (the IETF httpapi draft's, as Stripe uses it). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Printable ASCII, 1 to 255 characters. */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** The request's Idempotency-Key: undefined without one; 400 when it is not printable ASCII of at most 255 characters. */
export function idempotencyKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers[IDEMPOTENCY_KEY_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
    throw new AppError(400, 'invalid Idempotency-Key header', [{ path: 'Idempotency-Key', message: 'printable ASCII, 1 to 255 characters' }]);
  }
  return raw;
}

export interface KeyedIds {
  resourceId: string;
  eventId: string;
}

/**
 * The ids a keyed write uses, the resource's and its event's: derived from the key and the event type
 * (which names the service that owns it and the one operation that makes it), so one key means one
 * resource and the log stores its event once however often it is sent; then sealed with the service's
 * secret (idSealer), so nobody without it can compute them from the key or from the resource's public id.
 */
export function keyedIds(sealId: (id: string) => string, type: KnownEvent['type'], key: string): KeyedIds {
  return { resourceId: sealId(derivedEventId(type, `key:resource:${key}`)), eventId: sealId(derivedEventId(type, `key:event:${key}`)) };
}

/** One write made safe to repeat: what it makes, how to find it once made, how to store it. */
export interface RepeatableWrite<T> {
  /** The event the write publishes; with the key, it fixes the ids. */
  type: KnownEvent['type'];
  key: string;
  /** The resource this request makes, under the id its key gives it, as a 201 answers it. */
  make(id: string): T;
  /** The resource this service holds under `id`, as first answered, and whether this request asks for the same. */
  find(id: string): { resource: T; same: boolean } | undefined;
  /** Publishes the resource's event under `eventId` and, unless the log already held it, keeps the resource. */
  store(resource: T, eventId: string): Promise<PublishReceipt>;
}

/**
 * Writes sent with an Idempotency-Key. A repeat is answered from what the service holds; otherwise the
 * event is published under its derived id, and the engine's de-duplication tells whether the log held it
 * already (a first attempt whose answer was lost, or one another replica handled): then the service reads
 * the log to its end and answers from that. The log is the record of which keys were used, so a key is
 * remembered as long as the resource is, on every replica and across restarts, with nothing kept beside it.
 */
export class RepeatableWrites {
  private readonly inFlight = new Set<string>();

  constructor(
    /** Reads the log up to its end into the service's state. */
    private readonly catchUp: () => Promise<void>,
    /** The service's sealer; without one (tests) the ids stay as derived. */
    private readonly sealId: (id: string) => string = (id) => id,
  ) {}

  async write<T>(write: RepeatableWrite<T>): Promise<T> {
    const { resourceId, eventId } = keyedIds(this.sealId, write.type, write.key);
    // A repeat racing its first attempt through this process is told to wait, not sent to the log beside it.
    if (this.inFlight.has(eventId)) {
      throw new AppError(409, 'a request with this Idempotency-Key is still being handled; try again in a moment');
    }
    this.inFlight.add(eventId);
    try {
      const made = write.make(resourceId);
      const held = write.find(resourceId);
      if (held) return answerOf(held);
      const receipt = await write.store(made, eventId);
      if (!receipt.duplicate) return made;
      await this.catchUp();
      const stored = write.find(resourceId);
      // The log holds the event but this service keeps nothing of it (it refused it): this request's own form is all there is.
      return stored ? answerOf(stored) : made;
    } finally {
      this.inFlight.delete(eventId);
    }
  }
}

function answerOf<T>({ resource, same }: { resource: T; same: boolean }): T {
  if (!same) {
    throw new AppError(422, 'this Idempotency-Key was used for another request; nothing was stored', [
      { path: 'Idempotency-Key', message: 'the first request sent with this key had another body' },
    ]);
  }
  return resource;
}

/**
 * Seals the ids of the events a service derives (a verdict's id from its comment's, an update's from
 * its verdict's) with the service's own secret: HMAC-SHA256 of the public derivation, shaped as a UUID
 * (version 8, "custom"). Its replicas share the secret, so they derive the same id and the log stores
 * the event once. No other caller can compute it, so none can publish first under that id and have the
 * real event dropped as a repeat (NATS JetStream deduplicates by id across the whole stream). Without a
 * secret (no credentials, as under `npm start`) ids stay as derived: there is no identity to protect.
 */
export function idSealer(secret: string | undefined): (id: string) => string {
  if (!secret) return (id) => id;
  return (id) => {
    const digest = createHmac('sha256', secret).update(id).digest();
    digest[6] = (digest[6]! & 0x0f) | 0x80;
    digest[8] = (digest[8]! & 0x3f) | 0x80;
    const hex = digest.subarray(0, 16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
