import { Lifecycle, securityFrom, LogFollower, busClientFor, createLogger, runService } from '@blog/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { applyEvent } from './domain/applyEvent';
import { QueryStore } from './store/queryStore';

const config = loadConfig();
const logger = createLogger('query', config.LOG_LEVEL, config.LOG_FORMAT);
// query never publishes; it only reads the log to rebuild its view.
const bus = busClientFor(config, '/query');
const store = new QueryStore();
const lifecycle = new Lifecycle();
const follower = new LogFollower(bus, (event) => applyEvent(store, event, logger));
const app = createApp({ store, lifecycle, logger, follower, security: securityFrom(config) });

runService({ name: 'query', app, port: config.PORT, host: config.HOST, lifecycle, logger, follower });
