/**
 * The local launcher: the services as real processes on free loopback ports (with a NATS cluster when
 * asked), and the polling helper it waits with. `supervise.ts` (npm start, npm run dev, npm run
 * start:nats) and `status.ts` (npm run status) are programs, not exports.
 */
export { LocalSystem } from './localSystem';
export type { EngineName, LocalSystemOptions } from './localSystem';
export { ManagedProcess } from './childProcess';
export { ServiceProcess, SERVICE_NAMES } from './serviceProcess';
export type { ProcessName, ServiceName } from './serviceProcess';
export { credentialEnv, credentialsList, newCredentials, type Credentials } from './credentials';
export { CALLER_NAMES, type CallerName } from '@blog/contracts';
export { NatsNode, natsAuth, type NatsAuth, natsCluster, type NatsClusterOptions } from './natsCluster';
export { joinWholeMetaGroup, startNatsCluster, type ClusterMember } from './metaGroup';
export { NATS_TOOLS_DIR, natsServerProgram, natsServerVersion, type NatsServerProgram } from './natsServer';
export { freePort } from './ports';
export { processUsage } from './processUsage';
export { waitFor } from './waitFor';
