import { busServiceConfigSchema, readConfig, type BusServiceConfig } from '@blog/common';

export const configSchema = busServiceConfigSchema(4001);

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): BusServiceConfig => readConfig(configSchema, env);
