import { EventReceiver, Lifecycle, createLogger, engineFor, runService, securityFrom } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { commentsEventHandlers } from './domain/handleEvent';
import { CommentStore } from './store/commentStore';

const config = loadConfig();
const logger = createLogger('comments', config.LOG_LEVEL, config.LOG_FORMAT);
const engine = engineFor(config, '/comments');
const store = new CommentStore();
const lifecycle = new Lifecycle();
const receiver = new EventReceiver({ engine, handlers: commentsEventHandlers(store), lifecycle, logger });
const app = createApp({ engine, receiver, store, lifecycle, logger, security: securityFrom(config) });

runService({ name: 'comments', app, port: config.PORT, host: config.HOST, lifecycle, logger, events: { engine, receiver } });
