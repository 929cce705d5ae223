import { randomUUID } from 'node:crypto';
import {
  AppError,
  CLOUDEVENTS_VERSION,
  JSON_CONTENT_TYPE,
  isKnownEventType,
  jsonBody,
  knownEventSchema,
  parseOrThrow,
  publishRequestSchema,
  type Envelope,
  type Lifecycle,
  type Logger,
} from '@blog/common';
import { Router } from 'express';
import type { EventLog } from '../store/eventLog';

/** A single event is small; this only stops a client from making the bus buffer megabytes. */
export const PUBLISH_BODY_LIMIT = '256kb';

/** Who published a bare course-style `{type, data}`: the CloudEvents source the bus fills in. */
export const ANONYMOUS_SOURCE = '/anonymous';

function toEnvelope(body: unknown, now: Date): Envelope {
  const request = parseOrThrow(publishRequestSchema, body, 'event');
  let data = request.data;
  if (isKnownEventType(request.type)) {
    // The bus knows the contracts, so a malformed known event never reaches a subscriber.
    data = parseOrThrow(knownEventSchema, { type: request.type, data }, `${request.type} event`).data;
  }
  return {
    specversion: CLOUDEVENTS_VERSION,
    id: request.id ?? randomUUID(),
    source: request.source ?? ANONYMOUS_SOURCE,
    type: request.type,
    time: request.time ?? now.toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    data,
  };
}

export function publishRoutes(deps: { log: EventLog; lifecycle: Lifecycle; logger: Logger }): Router {
  const router = Router();
  router.post('/events', ...jsonBody(PUBLISH_BODY_LIMIT), async (req, res) => {
    if (deps.lifecycle.isDraining) throw new AppError(503, 'the bus is shutting down; nothing was stored');
    const envelope = toEnvelope(req.body, new Date());
    let stored;
    try {
      stored = await deps.log.append(envelope);
    } catch (error) {
      deps.logger.error({ err: error, type: envelope.type }, 'could not store event');
      throw new AppError(503, 'the bus could not store the event; nothing was stored, try again', [
        { message: 'storage unavailable' },
      ]);
    }
    res.status(stored.duplicate ? 200 : 201).json({ id: stored.id, seq: stored.seq });
  });
  return router;
}
