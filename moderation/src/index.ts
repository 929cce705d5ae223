import { eventService } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { moderationEventHandlers } from './domain/handleEvent';

const config = loadConfig();
// Moderation keeps nothing, so it has no log to replay: it is ready as soon as it listens.
const service = eventService('moderation', config, () => moderationEventHandlers);
if (config.MODERATION_DELAY_MS > 0) {
  // The wait is held at the push engine's door (POST /events); NATS hands events over without it.
  const engine = config.NATS_URL.length > 0 ? 'has no effect on the NATS engine' : 'before each delivery is handled';
  service.parts.logger.info({ delayMs: config.MODERATION_DELAY_MS }, `moderation waits MODERATION_DELAY_MS ${engine}`);
}
service.run(createApp({ ...service.parts, delayMs: config.MODERATION_DELAY_MS }));
