import { EventReceiver, Lifecycle, createLogger, engineFor, runService, securityFrom } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { postsEventHandlers } from './domain/applyEvent';
import { PostStore } from './store/postStore';

const config = loadConfig();
const logger = createLogger('posts', config.LOG_LEVEL, config.LOG_FORMAT);
const engine = engineFor(config, '/posts');
const store = new PostStore();
const lifecycle = new Lifecycle();
const receiver = new EventReceiver({ engine, handlers: postsEventHandlers(store), lifecycle, logger });
const app = createApp({ engine, receiver, store, lifecycle, logger, security: securityFrom(config) });

runService({ name: 'posts', app, port: config.PORT, host: config.HOST, lifecycle, logger, events: { engine, receiver } });
