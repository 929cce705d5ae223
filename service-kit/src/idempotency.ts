import { derivedEventId, type KnownEvent, type PublishReceipt } from '@blog/contracts';
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from './errors';
import { createHmac } from 'node:crypto';

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
