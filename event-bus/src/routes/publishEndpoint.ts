import { EVENTS_BODY_LIMIT_BYTES, EngineOutcomeUnknownError, EngineUnavailableError, MAX_ERROR_DETAILS } from '@blog/contracts';
import { AppError, type EventEndpoint, type JsonAnswer, type Lifecycle, type Logger } from '@blog/service-kit';
import type { BusMetrics } from '../busMetrics';
import { logStored, toEnvelopes } from '../publishing';
import type { AppendResult } from '../store/eventLog';
import { PartlyStoredError, type BusBackend } from '../views';

interface PublishDeps {
  log: Pick<BusBackend, 'append'>;
  lifecycle: Lifecycle;
  logger: Logger;
  metrics?: BusMetrics;
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
