import { baseConfigShape, intVar, portVar, readConfig, urlVar } from '@blog/service-kit';
import { z } from 'zod';

export const configSchema = z.object({
  PORT: portVar(3000),
  ...baseConfigShape,
  /** Where the API paths go: writes of posts to posts, reads to query, comments to comments. */
  POSTS_URL: urlVar('http://localhost:4000'),
  COMMENTS_URL: urlVar('http://localhost:4001'),
  QUERY_URL: urlVar('http://localhost:4002'),
  /** Longest wait for a service's answer (its status line and headers); over 10 s, the services' own write limit. */
  UPSTREAM_TIMEOUT_MS: intVar(15_000, 100, 120_000),
  /** Longest wait for a connection to a service before it counts as down. */
  UPSTREAM_CONNECT_TIMEOUT_MS: intVar(2_000, 50, 60_000),
  /** The Vite build to serve; by default `client/web/dist` beside this package's `dist/`. */
  STATIC_DIR: z.string().min(1).optional(),
});

export type ClientConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ClientConfig => readConfig(configSchema, env);
