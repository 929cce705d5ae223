import type { EventEngine, EventHandlers } from '@blog/contracts';
import type { RequestListener } from 'node:http';
import { securityFrom, type BusServiceConfig } from './config';
import { engineFor } from './engines/engineFor';
import { Lifecycle } from './operations';
import { createLogger, type Logger } from './logger';
import { EventReceiver } from './receiver';
import { idSealer, type SecurityOptions } from './guards';
import { runService } from './server';

/** What a service's app is built from: the same five parts for posts, comments, moderation and query. */
export interface EventServiceParts {
  engine: EventEngine;
  receiver: EventReceiver;
  lifecycle: Lifecycle;
  logger: Logger;
  security: SecurityOptions;
  /** Seals the ids the service derives with its own secret (idSealer): its follow-ups', its keyed writes'. */
  sealId: (id: string) => string;
}

export interface EventService {
  parts: EventServiceParts;
  /** Listens on the configured port, replays the log when the service keeps state, and subscribes. */
  run(app: RequestListener): void;
}

/**
 * Wires a service from its configuration: its logger, its event engine (publishing as `/<name>`), a
 * receiver running `handlers`, and the start that goes with them. `handlers` gets the logger, for
 * services whose handlers log. `reactionHoldMs`: each event is held that long before it is reacted to,
 * on either engine (moderation's MODERATION_DELAY_MS).
 */
export function eventService(name: string, config: BusServiceConfig, handlers: (logger: Logger) => EventHandlers, { reactionHoldMs = 0 } = {}): EventService {
  const logger = createLogger(name, config.LOG_LEVEL, config.LOG_FORMAT);
  const engine = engineFor(config, `/${name}`, logger);
  const lifecycle = new Lifecycle();
  const engineProblem = engine.problem?.bind(engine);
  if (engineProblem) lifecycle.watchProblems(engineProblem);
  // The service's own secret seals the ids it derives: its NATS password, or its bus token.
  const sealId = idSealer(config.NATS_PASSWORD ?? config.BUS_TOKEN);
  const receiver = new EventReceiver({ engine, handlers: handlers(logger), lifecycle, logger, sealId, reactionHoldMs });
  return {
    parts: { engine, receiver, lifecycle, logger, security: securityFrom(config), sealId },
    run: (app) => runService({ name, app, port: config.PORT, host: config.HOST, lifecycle, logger, events: { engine, receiver } }),
  };
}
