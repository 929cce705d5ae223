import { EVENTS_BODY_LIMIT_BYTES, EngineOutcomeUnknownError, EngineUnavailableError } from '@blog/contracts';
import { AppError, type EventEndpoint, type JsonAnswer, type Lifecycle, type Logger } from '@blog/service-kit';
import type { BusMetrics } from '../busMetrics';
import { logStored, toEnvelopes } from '../publishing';
import type { AppendResult } from '../store/eventLog';
import type { BusBackend } from '../views';

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
    throw new AppError(503, 'the bus could not store the event; nothing was stored, try again', [
      { message: 'storage unavailable' },
    ]);
  }
  // Publishes skip the per-request log line (see createServiceApp); this is their trace.
  logStored(deps.logger, envelopes, stored);
  const receipts = stored.map(({ id, seq }) => ({ id, seq }));
  // 201 when something new was stored; 200 when every event was already in the log.
  return { status: stored.every((s) => s.duplicate) ? 200 : 201, body: Array.isArray(body) ? receipts : receipts[0] };
}
