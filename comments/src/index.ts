import { Lifecycle, securityFrom, LogFollower, busClientFor, createLogger, runService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { applyEvent } from './domain/handleEvent';
import { CommentStore } from './store/commentStore';

const config = loadConfig();
const logger = createLogger('comments', config.LOG_LEVEL, config.LOG_FORMAT);
const bus = busClientFor(config, '/comments');
const store = new CommentStore();
const lifecycle = new Lifecycle();
const follower = new LogFollower(bus, (event) => applyEvent(store, event));
const app = createApp({ bus, store, lifecycle, logger, follower, security: securityFrom(config) });

runService({ name: 'comments', app, port: config.PORT, host: config.HOST, lifecycle, logger, follower });
