import { eventService } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { queryEventHandlers, QueryStore } from './view';

// query never publishes; it only reads the log to rebuild its view and receives what comes after.
const store = new QueryStore();
const service = eventService('query', loadConfig(), (logger) => queryEventHandlers(store, logger));
service.run(createApp({ ...service.parts, store }));
