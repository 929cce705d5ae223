import { baseConfigShape, intVar, portVar, readConfig, urlVar } from '@blog/service-kit';
import { z } from 'zod';
import { isLoopbackUrl } from './flow/supervisor';

/**
 * BUS_TOKEN (from the shared settings) is, for the client server, its own read-only bus credential: it
 * may read the log and the subscribers for the flow page, and publish nothing.
 */
export const configSchema = z.object({
  PORT: portVar(3000),
  ...baseConfigShape,
  /** Where the API paths go: writes of posts to posts, reads to query, comments to comments. */
  POSTS_URL: urlVar('http://localhost:4000'),
  COMMENTS_URL: urlVar('http://localhost:4001'),
  QUERY_URL: urlVar('http://localhost:4002'),
  /** The flow page: where the bus's log, subscribers and dead letters are read (read only). */
  EVENT_BUS_URL: urlVar('http://localhost:4005'),
  /** The flow page: where moderation's /readyz is (the client routes no API path to it). */
  MODERATION_URL: urlVar('http://localhost:4003'),
  /**
   * The local supervisor that runs the processes (it gives the client server its URL), on loopback only; with
   * it the flow page may stop, start and slow services. Unset in Kubernetes and in images: the page then
   * shows the kubectl commands instead.
   */
  SUPERVISOR_URL: z
    .url({ protocol: /^https?$/ })
    .refine(isLoopbackUrl, 'SUPERVISOR_URL must be on this machine (127.0.0.1, localhost or [::1])')
    .optional(),
  /** The flow page's live stream: how often its one shared poller reads the log (ms). */
  FLOW_POLL_MS: intVar(500, 100, 10_000),
  /** The flow page's live stream: most viewers at once. */
  FLOW_MAX_VIEWERS: intVar(50, 1, 1_000),
  /** Longest wait for a service's answer (its status line and headers); over 10 s, the services' own write limit. */
  UPSTREAM_TIMEOUT_MS: intVar(15_000, 100, 120_000),
  /** Longest wait for a connection to a service before it counts as down. */
  UPSTREAM_CONNECT_TIMEOUT_MS: intVar(2_000, 50, 60_000),
  /** The Vite build to serve; by default `client/web/dist` beside this package's `dist/`. */
  STATIC_DIR: z.string().min(1).optional(),
});

export type ClientConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ClientConfig => readConfig(configSchema, env);
