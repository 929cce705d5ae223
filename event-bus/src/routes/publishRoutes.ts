import { randomUUID } from 'node:crypto';
import {
  AppError,
  CLOUDEVENTS_VERSION,
  JSON_CONTENT_TYPE,
  detailsFromZod,
  isKnownEventType,
  jsonBody,
  knownEventSchema,
  publishRequestSchema,
  type Envelope,
  type ErrorDetail,
  type Lifecycle,
  type Logger,
} from '@blog/common';
import { Router } from 'express';
import { z } from 'zod';
import type { BusMetrics } from '../busMetrics';
import type { AppendResult, EventLog } from '../store/eventLog';

/** Enough for a batch of a thousand ordinary events; stops a client from making the bus buffer more. */
export const PUBLISH_BODY_LIMIT = '1mb';
export const MAX_PUBLISH_BATCH = 1000;

/** Who published a bare course-style `{type, data}`: the CloudEvents source the bus fills in. */
export const ANONYMOUS_SOURCE = '/anonymous';

function toEnvelope(body: unknown, now: Date): Envelope {
  const request = publishRequestSchema.parse(body);
  let data = request.data;
  if (isKnownEventType(request.type)) {
    // The bus knows the contracts, so a malformed known event never reaches a subscriber.
    data = knownEventSchema.parse({ type: request.type, data }).data;
  }
  return {
    specversion: CLOUDEVENTS_VERSION,
    id: request.id ?? randomUUID(),
    source: request.source ?? ANONYMOUS_SOURCE,
    type: request.type,
    time: request.time ?? now.toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    ...(request.requestid ? { requestid: request.requestid } : {}),
    data,
  };
}

/**
 * One event, or an array of events stored together in order (all or none). Every event is checked before
 * any is stored, and the 400 names each problem with the event's index.
 */
function toEnvelopes(body: unknown, now: Date): Envelope[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0 || items.length > MAX_PUBLISH_BATCH) {
    throw new AppError(400, 'invalid event batch', [{ message: `a batch holds 1 to ${MAX_PUBLISH_BATCH} events` }]);
  }
  const details: ErrorDetail[] = [];
  const envelopes = items.map((item, index) => {
    try {
      return toEnvelope(item, now);
    } catch (error) {
      if (!(error instanceof z.ZodError)) throw error;
      const prefix = Array.isArray(body) ? `${index}.` : '';
      details.push(...detailsFromZod(error).map((d) => ({ ...d, path: prefix + d.path })));
      return null;
    }
  });
  if (details.length > 0) throw new AppError(400, Array.isArray(body) ? 'invalid event batch' : 'invalid event', details);
  return envelopes as Envelope[];
}

export function publishRoutes(deps: { log: EventLog; lifecycle: Lifecycle; logger: Logger; metrics?: BusMetrics }): Router {
  const router = Router();
  router.post('/events', ...jsonBody(PUBLISH_BODY_LIMIT), async (req, res) => {
    if (deps.lifecycle.isDraining) throw new AppError(503, 'the bus is shutting down; nothing was stored');
    const batch = Array.isArray(req.body);
    const envelopes = toEnvelopes(req.body, new Date());
    let stored: AppendResult[];
    const started = performance.now();
    try {
      stored = await deps.log.append(envelopes);
      deps.metrics?.stored(stored.filter((s) => !s.duplicate).length, (performance.now() - started) / 1000);
    } catch (error) {
      deps.logger.error({ err: error, count: envelopes.length }, 'could not store events');
      throw new AppError(503, 'the bus could not store the event; nothing was stored, try again', [
        { message: 'storage unavailable' },
      ]);
    }
    const receipts = stored.map(({ id, seq }) => ({ id, seq }));
    // Publishes skip the per-request log line (see createServiceApp); this is their trace.
    if (deps.logger.isLevelEnabled('info')) {
      const requestIds = [...new Set(envelopes.flatMap((envelope) => (envelope.requestid ? [envelope.requestid] : [])))];
      deps.logger.info({ seqs: receipts.map((receipt) => receipt.seq), types: envelopes.map((e) => e.type), requestIds }, 'events stored');
    }
    // 201 when something new was stored; 200 when every event was already in the log.
    res.status(stored.every((s) => s.duplicate) ? 200 : 201).json(batch ? receipts : receipts[0]);
  });
  return router;
}
