import type { EventEngine } from '@blog/contracts';
import { createSubscriberApp, type EventReceiver, type Lifecycle, type Logger, type SecurityOptions } from '@blog/service-kit';
import type { RequestListener } from 'node:http';

export interface ModerationDeps {
  engine: EventEngine;
  /** Takes the events in: built with moderationEventHandlers (and MODERATION_DELAY_MS as its reaction hold). */
  receiver: EventReceiver;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
}

export function createApp(deps: ModerationDeps): RequestListener {
  return createSubscriberApp(deps);
}
