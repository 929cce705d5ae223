import { Lifecycle, securityFrom, busClientFor, createLogger, runService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';

const config = loadConfig();
const logger = createLogger('moderation', config.LOG_LEVEL, config.LOG_FORMAT);
const bus = busClientFor(config, '/moderation');
const lifecycle = new Lifecycle();
const app = createApp({ bus, lifecycle, logger, security: securityFrom(config) });

// Moderation keeps nothing, so it has no log to replay: it is ready as soon as it listens.
runService({ name: 'moderation', app, port: config.PORT, host: config.HOST, lifecycle, logger });
