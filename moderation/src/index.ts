import { eventService } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { moderationEventHandlers } from './domain/handleEvent';

// Moderation keeps nothing, so it has no log to replay: it is ready as soon as it listens.
const service = eventService('moderation', loadConfig(), () => moderationEventHandlers);
service.run(createApp(service.parts));
