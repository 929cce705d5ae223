import { eventService } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { moderationEventHandlers } from './domain/handleEvent';

const config = loadConfig();
// Moderation keeps nothing, so it has no log to replay: it is ready as soon as it listens.
const service = eventService('moderation', config, () => moderationEventHandlers, { reactionHoldMs: config.MODERATION_DELAY_MS });
if (config.MODERATION_DELAY_MS > 0) {
  service.parts.logger.info({ delayMs: config.MODERATION_DELAY_MS }, 'moderation waits MODERATION_DELAY_MS before each verdict');
}
service.run(createApp(service.parts));
