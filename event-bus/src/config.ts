import { MAX_EVENT_BATCH } from '@blog/contracts';
import { baseConfigShape, intVar, natsConfigShape, portVar, readConfig } from '@blog/service-kit';
import { z } from 'zod';

const LOCAL_SUBSCRIBERS = [
  'http://localhost:4000/events',
  'http://localhost:4001/events',
  'http://localhost:4002/events',
  'http://localhost:4003/events',
].join(',');

/** Comma-separated subscriber URLs; `none` for a bus that only stores. */
const subscribersVar = z
  .string()
  .default(LOCAL_SUBSCRIBERS)
  .transform((raw) => (raw.trim() === 'none' ? [] : raw.split(',').map((url) => url.trim()).filter(Boolean)))
  .pipe(z.array(z.url({ protocol: /^https?$/ })));

export const configSchema = z.object({
  PORT: portVar(4005),
  ...baseConfigShape,
  // With NATS_URL set the bus is a stateless gateway to NATS JetStream, and the settings below it do not apply.
  ...natsConfigShape,
  BUS_TIMEOUT_MS: intVar(2000, 100, 60000),
  DATA_DIR: z.string().min(1).default('./data'),
  SUBSCRIBERS: subscribersVar,
  DELIVERY_BATCH_SIZE: intVar(100, 1, MAX_EVENT_BATCH),
  DELIVERY_TIMEOUT_MS: intVar(10_000, 100, 600_000),
  RETRY_BASE_MS: intVar(100, 1, 60_000),
  RETRY_MAX_MS: intVar(5_000, 1, 600_000),
  /** Times a subscriber may refuse one event (4xx, 500) before it is parked as a dead letter. */
  MAX_DELIVERY_ATTEMPTS: intVar(10, 1, 10_000),
});

export type Config = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => readConfig(configSchema, env);
