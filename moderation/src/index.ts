import { EventReceiver, Lifecycle, createLogger, engineFor, runService, securityFrom } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { moderationEventHandlers } from './domain/handleEvent';

const config = loadConfig();
const logger = createLogger('moderation', config.LOG_LEVEL, config.LOG_FORMAT);
const engine = engineFor(config, '/moderation');
const lifecycle = new Lifecycle();
const receiver = new EventReceiver({ engine, handlers: moderationEventHandlers, lifecycle, logger });
const app = createApp({ engine, receiver, lifecycle, logger, security: securityFrom(config) });

// Moderation keeps nothing, so it has no log to replay: it is ready as soon as it listens.
runService({ name: 'moderation', app, port: config.PORT, host: config.HOST, lifecycle, logger, events: { engine, receiver } });
