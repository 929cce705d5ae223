import { AppError, jsonBody, type Lifecycle, type Logger } from '@blog/common';
import { Router } from 'express';
import type { BusMetrics } from '../busMetrics';
import { logStored, toEnvelopes } from '../publishing';
import type { AppendResult, EventLog } from '../store/eventLog';

/** Enough for a batch of a thousand ordinary events; stops a client from making the bus buffer more. */
export const PUBLISH_BODY_LIMIT = '1mb';

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
      deps.metrics?.published((performance.now() - started) / 1000);
    } catch (error) {
      deps.logger.error({ err: error, count: envelopes.length }, 'could not store events');
      throw new AppError(503, 'the bus could not store the event; nothing was stored, try again', [
        { message: 'storage unavailable' },
      ]);
    }
    // Publishes skip the per-request log line (see createServiceApp); this is their trace.
    logStored(deps.logger, envelopes, stored);
    const receipts = stored.map(({ id, seq }) => ({ id, seq }));
    // 201 when something new was stored; 200 when every event was already in the log.
    res.status(stored.every((s) => s.duplicate) ? 200 : 201).json(batch ? receipts : receipts[0]);
  });
  return router;
}
