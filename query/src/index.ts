import { EventReceiver, Lifecycle, createLogger, engineFor, runService, securityFrom } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { queryEventHandlers } from './domain/applyEvent';
import { QueryStore } from './store/queryStore';

const config = loadConfig();
const logger = createLogger('query', config.LOG_LEVEL, config.LOG_FORMAT);
// query never publishes; it only reads the log to rebuild its view and receives what comes after.
const engine = engineFor(config, '/query');
const store = new QueryStore();
const lifecycle = new Lifecycle();
const receiver = new EventReceiver({ engine, handlers: queryEventHandlers(store, logger), lifecycle, logger });
const app = createApp({ engine, receiver, store, lifecycle, logger, security: securityFrom(config) });

runService({ name: 'query', app, port: config.PORT, host: config.HOST, lifecycle, logger, events: { engine, receiver } });
