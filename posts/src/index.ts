import { eventService } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { postsEventHandlers, PostStore } from './store/postStore';

const store = new PostStore();
const service = eventService('posts', loadConfig(), () => postsEventHandlers(store));
service.run(createApp({ ...service.parts, store }));
