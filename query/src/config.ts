import { baseConfigShape, busConfigShape, portVar, readConfig } from '@blog/common';
import { z } from 'zod';

export const configSchema = z.object({
  PORT: portVar(4002),
  ...baseConfigShape,
  ...busConfigShape,
});

export type Config = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => readConfig(configSchema, env);
