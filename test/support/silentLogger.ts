import { createLogger } from '@blog/common';

export const silentLogger = createLogger('test', 'silent');
