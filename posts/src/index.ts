import { Lifecycle, securityFrom, LogFollower, busClientFor, createLogger, runService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { applyEvent } from './domain/applyEvent';
import { PostStore } from './store/postStore';

const config = loadConfig();
const logger = createLogger('posts', config.LOG_LEVEL, config.LOG_FORMAT);
const bus = busClientFor(config, '/posts');
const store = new PostStore();
const lifecycle = new Lifecycle();
const follower = new LogFollower(bus, (event) => applyEvent(store, event));
const app = createApp({ bus, store, lifecycle, logger, follower, security: securityFrom(config) });

runService({ name: 'posts', app, port: config.PORT, host: config.HOST, lifecycle, logger, follower });
