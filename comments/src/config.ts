import { busServiceConfigSchema, readConfig, type BusServiceConfig } from '@blog/service-kit';

export const configSchema = busServiceConfigSchema(4001);

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): BusServiceConfig => readConfig(configSchema, env);
