import { createLogger } from '@blog/service-kit';

export const silentLogger = createLogger('test', 'silent');
