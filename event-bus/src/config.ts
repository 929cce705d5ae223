import { BLOG_SERVICES, DEFAULT_PORTS, MAX_EVENT_BATCH } from '@blog/contracts';
import { baseConfigShape, credentialsVar, intVar, natsConfigShape, portVar, readConfig } from '@blog/service-kit';
import { z } from 'zod';

/** Every service on its default port, as `npm start` runs them. */
const LOCAL_SUBSCRIBERS = BLOG_SERVICES.map((name) => `${name}=http://localhost:${DEFAULT_PORTS[name]}/events`).join(',');

/** A subscriber: its URL, and the name whose credential it is delivered with (and whose follow-ups it may publish). */
export interface SubscriberConfig {
  url: string;
  name?: string;
}

/**
 * Comma-separated subscribers, each `name=url` or a bare URL (the course's form); `none` for a bus that
 * only stores. The name picks the credential (BUS_CREDENTIALS) presented on its deliveries.
 */
const subscribersVar = z
  .string()
  .default(LOCAL_SUBSCRIBERS)
  .transform((raw) => (raw.trim() === 'none' ? [] : raw.split(',').map((entry) => entry.trim()).filter(Boolean)))
  .transform((entries) =>
    entries.map((entry) => {
      const named = /^([a-z][a-z0-9-]*)=(.+)$/.exec(entry);
      return named ? { name: named[1], url: named[2]! } : { url: entry };
    }),
  )
  .pipe(z.array(z.object({ url: z.url({ protocol: /^https?$/ }), name: z.string().optional() })));

export const configSchema = z
  .object({
  PORT: portVar(4005),
  ...baseConfigShape,
  // With NATS_URL set the bus is a stateless gateway to NATS JetStream, and the settings below it do not apply.
  ...natsConfigShape,
  BUS_TIMEOUT_MS: intVar(2000, 100, 60000),
  DATA_DIR: z.string().min(1).default('./data'),
  SUBSCRIBERS: subscribersVar,
  BUS_CREDENTIALS: credentialsVar,
  DELIVERY_BATCH_SIZE: intVar(100, 1, MAX_EVENT_BATCH),
  DELIVERY_TIMEOUT_MS: intVar(10_000, 100, 600_000),
  RETRY_BASE_MS: intVar(100, 1, 60_000),
  RETRY_MAX_MS: intVar(5_000, 1, 600_000),
  /** Times a subscriber may refuse one event (4xx, 500) before it is parked as a dead letter. */
  MAX_DELIVERY_ATTEMPTS: intVar(10, 1, 10_000),
  })
  // One token for everything is what BUS_CREDENTIALS replaces: the bus refuses it rather than half-apply it.
  .refine((config) => config.BUS_TOKEN === undefined, {
    path: ['BUS_TOKEN'],
    message: 'the bus takes BUS_CREDENTIALS (name:token for each service, e.g. posts:...,comments:...); BUS_TOKEN is each service\'s own',
  })
  .refine((config) => config.SUBSCRIBERS.every((subscriber) => subscriber.name === undefined || config.BUS_CREDENTIALS.size === 0 || config.BUS_CREDENTIALS.has(subscriber.name)), {
    path: ['SUBSCRIBERS'],
    message: 'every named subscriber needs a credential of that name in BUS_CREDENTIALS',
  });

export type Config = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => readConfig(configSchema, env);
