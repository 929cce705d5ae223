import { randomUUID } from 'node:crypto';
import { CLOUDEVENTS_VERSION, EVENT_OWNERS, MAX_EVENT_BATCH, MAX_EVENT_BYTES, OPERATOR, READ_ONLY_CALLERS, JSON_CONTENT_TYPE, isKnownEventType, knownEventSchema, publishRequestSchema, sourceOf, type Envelope } from '@blog/contracts';
import { AppError, detailsFromZod, forbidden, type ErrorDetail, type Logger } from '@blog/service-kit';
import { z } from 'zod';
import type { AppendResult } from './store/eventLog';

/** Who published a bare course-style `{type, data}`: the CloudEvents source the bus fills in. */
export const ANONYMOUS_SOURCE = '/anonymous';

/**
 * An event type `publisher` may not publish: only its owner may (EVENT_OWNERS), and a type nobody owns
 * only the operator. Without credentials (`publisher` null) anyone may publish anything.
 */
function notOwned(type: string, publisher: string | null): string | undefined {
  if (publisher === null) return undefined;
  if (READ_ONLY_CALLERS.includes(publisher)) return `${publisher} may only read the log, not publish`;
  if (!isKnownEventType(type)) return publisher === OPERATOR ? undefined : `${type} has no owner: only the ${OPERATOR} may publish it (give it one in contracts/src/owners.ts)`;
  return EVENT_OWNERS[type] === publisher ? undefined : `${publisher} may not publish ${type}; only ${EVENT_OWNERS[type]} may`;
}

function toEnvelope(body: unknown, now: Date, publisher: string | null): Envelope {
  const request = publishRequestSchema.parse(body);
  let data = request.data;
  if (isKnownEventType(request.type)) {
    // The bus knows the contracts, so a malformed known event never reaches a subscriber.
    data = knownEventSchema.parse({ type: request.type, data }).data;
  }
  return {
    specversion: CLOUDEVENTS_VERSION,
    id: request.id ?? randomUUID(),
    // With credentials the source is the publisher's, whatever the body claims.
    source: publisher !== null ? sourceOf(publisher) : (request.source ?? ANONYMOUS_SOURCE),
    type: request.type,
    time: request.time ?? now.toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    ...(request.requestid ? { requestid: request.requestid } : {}),
    data,
  };
}

/**
 * One event, or an array of events stored together in order (all or none). Every event is checked before
 * any is stored, and the 400 names each problem with the event's index; with credentials, `publisher`
 * is who sent them, and a type it does not own is a 403 for the whole publish.
 */
export function toEnvelopes(body: unknown, now: Date, publisher: string | null = null): Envelope[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0 || items.length > MAX_EVENT_BATCH) {
    throw new AppError(400, 'invalid event batch', [{ message: `a batch holds 1 to ${MAX_EVENT_BATCH} events` }]);
  }
  const details: ErrorDetail[] = [];
  const envelopes = items.map((item, index) => {
    try {
      return toEnvelope(item, now, publisher);
    } catch (error) {
      if (!(error instanceof z.ZodError)) throw error;
      const prefix = Array.isArray(body) ? `${index}.` : '';
      details.push(...detailsFromZod(error).map((d) => ({ ...d, path: prefix + d.path })));
      return null;
    }
  });
  if (details.length > 0) throw new AppError(400, Array.isArray(body) ? 'invalid event batch' : 'invalid event', details);
  const prefix = (index: number) => (Array.isArray(body) ? `${index}.` : '');
  const refused = (envelopes as Envelope[]).flatMap((envelope, index) => {
    const reason = notOwned(envelope.type, publisher);
    return reason ? [{ path: `${prefix(index)}type`, message: reason }] : [];
  });
  if (refused.length > 0) throw forbidden('this credential may not publish these events; nothing was stored', refused);
  const oversized = (envelopes as Envelope[]).flatMap((envelope, index) => {
    const bytes = Buffer.byteLength(JSON.stringify(envelope));
    return bytes > MAX_EVENT_BYTES ? [{ path: prefix(index) || 'event', message: `is ${bytes} bytes stored; an event may be at most ${MAX_EVENT_BYTES}` }] : [];
  });
  if (oversized.length > 0) throw new AppError(413, 'event too large; nothing was stored', oversized);
  return envelopes as Envelope[];
}

/** The trace of a publish: what was stored, at which positions, for which requests. */
export function logStored(logger: Logger, envelopes: Envelope[], stored: AppendResult[]): void {
  if (!logger.isLevelEnabled('info')) return;
  const requestIds = [...new Set(envelopes.flatMap((envelope) => (envelope.requestid ? [envelope.requestid] : [])))];
  logger.info({ seqs: stored.map((result) => result.seq), types: envelopes.map((envelope) => envelope.type), requestIds }, 'events stored');
}
