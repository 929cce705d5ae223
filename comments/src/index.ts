import { eventService } from '@blog/service-kit';
import { createApp } from './app';
import { loadConfig } from './config';
import { commentsEventHandlers, CommentStore } from './store/commentStore';

const store = new CommentStore();
const service = eventService('comments', loadConfig(), () => commentsEventHandlers(store));
service.run(createApp({ ...service.parts, store }));
