/**
 * The local launcher: the services as real processes on free loopback ports, and the polling helper
 * it waits with. `announce.ts` (npm start) and `status.ts` (npm run status) are programs, not exports.
 */
export { LocalSystem, ServiceProcess, SERVICE_NAMES, freePort } from './localSystem';
export type { LocalSystemOptions, ProcessName, ServiceName } from './localSystem';
export { waitFor } from './waitFor';
