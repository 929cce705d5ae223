import { z } from 'zod';
import type { SecurityOptions } from './guards';

/** A TCP port from the environment; 0 lets the OS choose (tests use it). */
export function portVar(defaultPort: number) {
  return z.coerce.number().int().min(0).max(65535).default(defaultPort);
}

export function urlVar(defaultUrl: string) {
  return z.url({ protocol: /^https?$/ }).default(defaultUrl);
}

export function intVar(defaultValue: number, min: number, max: number) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

export const logLevelVar = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** Comma-separated origins such as `https://blog.example`; empty means none. */
const originListVar = z
  .string()
  .default('')
  .transform((raw) => raw.split(',').map((origin) => origin.trim()).filter(Boolean))
  .pipe(z.array(z.url({ protocol: /^https?$/ })));

/** Shared by every service: where it listens, how loudly it logs, and what it lets in. */
export const baseConfigShape = {
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: logLevelVar,
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /** The secret shared by the bus and the services (a Kubernetes Secret); unset means no token checks. */
  BUS_TOKEN: z.string().min(16, 'BUS_TOKEN must be at least 16 characters').optional(),
  CORS_ORIGINS: originListVar,
};

const CREDENTIAL_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * `name:token,name:token`: who may call the bus, each with a secret of its own (one Kubernetes Secret
 * per service). Empty means no checks at all, as on a laptop.
 */
export const credentialsVar = z
  .string()
  .default('')
  .transform((raw, context) => {
    const credentials = new Map<string, string>();
    for (const entry of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
      const colon = entry.indexOf(':');
      const name = colon === -1 ? entry : entry.slice(0, colon);
      const token = colon === -1 ? '' : entry.slice(colon + 1);
      if (!CREDENTIAL_NAME.test(name)) context.addIssue({ code: 'custom', message: `"${name}" is not a name (lowercase letters, digits and -)` });
      else if (token.length < 16) context.addIssue({ code: 'custom', message: `the token for ${name} must be at least 16 characters` });
      else if (credentials.has(name)) context.addIssue({ code: 'custom', message: `${name} is listed twice` });
      else if ([...credentials.values()].includes(token)) context.addIssue({ code: 'custom', message: `${name} has the same token as another name; each needs its own` });
      else credentials.set(name, token);
    }
    return credentials;
  });

/** The security settings of a service, from its configuration. */
export function securityFrom(config: { BUS_TOKEN?: string | undefined; BUS_CREDENTIALS?: ReadonlyMap<string, string>; CORS_ORIGINS: string[] }): SecurityOptions {
  return { busToken: config.BUS_TOKEN, credentials: config.BUS_CREDENTIALS, corsOrigins: config.CORS_ORIGINS };
}

/** Comma-separated `nats://host:port` URLs of one or more NATS servers; empty means the embedded bus. */
const natsServersVar = z
  .string()
  .default('')
  .transform((raw) => raw.split(',').map((url) => url.trim()).filter(Boolean))
  .pipe(z.array(z.url({ protocol: /^(nats|tls)$/ })));

/**
 * The NATS JetStream engine, used when NATS_URL is set: by the services, and by the event-bus service,
 * which is then a stateless gateway.
 */
export const natsConfigShape = {
  NATS_URL: natsServersVar,
  /** Copies of each stream: 1 on one server, 3 in a cluster of three. */
  NATS_REPLICAS: intVar(1, 1, 5),
  /** How long the stream remembers event ids for dedupe (10 minutes). */
  NATS_DEDUPE_WINDOW_MS: intVar(600_000, 1_000, 86_400_000),
  /** How long a publish keeps trying (through a new leader's election) before it answers 503 or 504. */
  NATS_PUBLISH_WAIT_MS: intVar(10_000, 100, 120_000),
  /** How long one replica may hold an event unacknowledged before another gets it. */
  NATS_ACK_WAIT_MS: intVar(5_000, 100, 600_000),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** Deliveries of an event whose handler keeps failing, before it is parked as a dead letter. */
  MAX_DELIVERY_ATTEMPTS: intVar(10, 1, 100),
  /** Longest wait between two deliveries of an event that keeps failing. */
  RETRY_MAX_MS: intVar(5_000, 1, 600_000),
};

/** Shared by every service that talks to the bus. */
export const busConfigShape = {
  EVENT_BUS_URL: urlVar('http://localhost:4005'),
  PUBLISH_RETRIES: intVar(3, 0, 10),
  BUS_TIMEOUT_MS: intVar(2000, 100, 60000),
  ...natsConfigShape,
};

export type NatsConfig = z.infer<z.ZodObject<typeof natsConfigShape>> & { BUS_TIMEOUT_MS: number };

/**
 * Reads configuration once at start and fails fast, naming each variable that is wrong, instead of
 * letting a typo surface later as a confusing runtime error.
 */
export function readConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}

/** The settings of a service that talks to the bus: posts, comments, moderation and query. */
export function busServiceConfigSchema(defaultPort: number) {
  return z.object({ PORT: portVar(defaultPort), ...baseConfigShape, ...busConfigShape });
}

export type BusServiceConfig = z.infer<ReturnType<typeof busServiceConfigSchema>>;
