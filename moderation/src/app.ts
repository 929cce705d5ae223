import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import type { RequestListener } from 'node:http';
import { holdDeliveries } from './routes/holdDeliveries';

export interface ModerationDeps {
  engine: EventEngine;
  /** Takes the events in: built with moderationEventHandlers. */
  receiver: EventReceiver;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
  /** MODERATION_DELAY_MS: how long each delivery waits before its verdicts (0 or none: no wait). */
  delayMs?: number;
}

export function createApp(deps: ModerationDeps): RequestListener {
  return holdDeliveries(createSubscriberApp(deps), deps.delayMs ?? 0);
}
