import { busServiceConfigSchema, intVar, readConfig } from '@blog/service-kit';
import type { z } from 'zod';

export const configSchema = busServiceConfigSchema(4003).extend({
  /**
   * How long moderation holds each delivery before it gives its verdicts (0: not at all), so a learner
   * watches comments wait and moderation's lag grow. The bus retries a delivery unanswered after its
   * DELIVERY_TIMEOUT_MS (10 s), and a retry waits only what is left of the wait it repeats.
   */
  MODERATION_DELAY_MS: intVar(0, 0, 60_000),
});

export type ModerationConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ModerationConfig => readConfig(configSchema, env);
