/**
 * The bus's `/events`: who may publish what, `POST /events` storing events before it answers (the
 * deliveries store follow-ups by the same rules), and `GET /events` reading the log page by page.
 */
import { randomUUID } from 'node:crypto';
import { CLOUDEVENTS_VERSION, EVENT_OWNERS, MAX_EVENT_BATCH, MAX_EVENT_BYTES, OPERATOR, READ_ONLY_CALLERS, JSON_CONTENT_TYPE, isKnownEventType, knownEventSchema, publishRequestSchema, sourceOf, type Envelope, EVENTS_BODY_LIMIT_BYTES, EngineOutcomeUnknownError, EngineUnavailableError, MAX_ERROR_DETAILS } from '@blog/contracts';
import { AppError, detailsFromZod, forbidden, type ErrorDetail, type Logger, type EventEndpoint, type JsonAnswer, type Lifecycle, parseOrThrow } from '@blog/service-kit';
import { z } from 'zod';
import type { AppendResult } from '../store/eventLog';
import { PartlyStoredError, type BusBackend, type PublishMeter } from '../views';
import { Router, type Response } from 'express';

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

interface PublishDeps {
  log: Pick<BusBackend, 'append'>;
  lifecycle: Lifecycle;
  logger: Logger;
  metrics?: PublishMeter;
}

/** `POST /events`: one event or a batch, stored durably before the answer. */
export function publishEndpoint(deps: PublishDeps): EventEndpoint {
  return { path: '/events', limitBytes: EVENTS_BODY_LIMIT_BYTES, handle: (body, _headers, caller) => publish(body, caller.name, deps) };
}

/**
 * A batch NATS stored in part: 503 when the rest was surely not stored, 504 when some may have been; the
 * answer names each event's fate, and the same request again stores the rest once (their ids dedupe).
 */
function partlyStored(error: PartlyStoredError): JsonAnswer {
  const unknown = error.outcomes.some((outcome) => outcome.outcome === 'unknown');
  const stored = error.outcomes.filter((outcome) => outcome.outcome === 'stored').length;
  return {
    status: unknown ? 504 : 503,
    body: {
      error: `${stored} of the batch's ${error.outcomes.length} events were stored; send the same batch again to store the rest once`,
      details: error.outcomes.filter((outcome) => outcome.outcome !== 'stored').slice(0, MAX_ERROR_DETAILS).map((outcome) => ({ path: `${outcome.index}`, message: `${outcome.outcome}: ${'reason' in outcome ? outcome.reason : ''}` })),
      events: error.outcomes,
    },
  };
}

async function publish(body: unknown, publisher: string | null, deps: PublishDeps): Promise<JsonAnswer> {
  if (deps.lifecycle.isDraining) throw new AppError(503, 'the bus is shutting down; nothing was stored');
  if (deps.lifecycle.problem) throw new AppError(503, `the event log is ${deps.lifecycle.problem.status}; nothing was stored (GET /readyz says why)`);
  const envelopes = toEnvelopes(body, new Date(), publisher);
  let stored: AppendResult[];
  const started = performance.now();
  try {
    stored = await deps.log.append(envelopes);
    deps.metrics?.published((performance.now() - started) / 1000);
  } catch (error) {
    deps.logger.error({ err: error, count: envelopes.length }, 'could not store events');
    // The engine's own answer (NATS: 503 nothing stored, 504 outcome unknown) is passed on as it is.
    if (error instanceof EngineUnavailableError || error instanceof EngineOutcomeUnknownError) throw error;
    if (error instanceof PartlyStoredError) return partlyStored(error);
    throw new AppError(503, 'the bus could not store the event; nothing was stored, try again', [
      { message: 'storage unavailable' },
    ]);
  }
  // Publishes skip the per-request log line (see createServiceApp); this is their trace.
  logStored(deps.logger, envelopes, stored);
  // `duplicate` only when the log held the id already: how a keyed write learns its first attempt was stored.
  const receipts = stored.map(({ id, seq, duplicate }) => (duplicate ? { id, seq, duplicate } : { id, seq }));
  // 201 when something new was stored; 200 when every event was already in the log.
  return { status: stored.every((s) => s.duplicate) ? 200 : 201, body: Array.isArray(body) ? receipts : receipts[0] };
}

export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 10_000;

const pageQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  })
  .strict();

/** The whole log, page by page, so even a long log never sits in memory at once. */
async function streamWholeLog(log: Pick<BusBackend, 'readAfter'>, res: Response): Promise<void> {
  // The first page is read before the answer starts, so a log that cannot be read gets a clear 503.
  let rows = await readOrRefuse(log, 0, MAX_PAGE);
  res.type('application/json');
  res.write('[');
  let after = 0;
  let first = true;
  for (let page = 0; ; page += 1) {
    if (page > 0) {
      try {
        rows = await log.readAfter(after, MAX_PAGE);
      } catch {
        // Half an array is already sent: ending it cleanly would pass for the whole log.
        res.destroy();
        return;
      }
    }
    if (rows.length === 0) break;
    const chunk = rows.map((row) => row.body).join(',');
    const writable = res.write(first ? chunk : `,${chunk}`);
    first = false;
    after = rows[rows.length - 1]!.seq;
    if (!writable) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end(']');
}

/** A read the storage failed (damage, an I/O error): a 503 that points at /readyz, never a 500. */
async function readOrRefuse(backend: Pick<BusBackend, 'readAfter'>, after: number, limit: number) {
  try {
    return await backend.readAfter(after, limit);
  } catch {
    throw new AppError(503, 'the event log cannot be read right now; GET /readyz says why');
  }
}

export function readRoutes(backend: BusBackend): Router {
  const router = Router();
  router.get('/events', async (req, res) => {
    // No query: the whole log as one array, as the course's bus answers.
    if (Object.keys(req.query).length === 0) {
      await streamWholeLog(backend, res);
      return;
    }
    const { after, limit } = parseOrThrow(pageQuery, req.query, 'query');
    const rows = await readOrRefuse(backend, after, limit);
    res.type('application/json').send(`[${rows.map((row) => row.body).join(',')}]`);
  });
  // Where the log ends, in one small read: how a service tells whether it keeps up (FeedWatch).
  router.get('/events/end', async (_req, res) => {
    let lastSeq: number;
    try {
      lastSeq = await backend.logEnd();
    } catch {
      throw new AppError(503, 'the event log cannot be read right now; GET /readyz says why');
    }
    res.json({ lastSeq });
  });
  router.get('/subscribers', async (_req, res) => {
    res.json(await backend.subscribers());
  });
  return router;
}
