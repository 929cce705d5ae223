import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON lines for machines (the default, and what Kubernetes collects); `pretty` for a person at a
 * terminal (`npm run dev` sets LOG_FORMAT=pretty).
 */
export function createLogger(service: string, level: string, format: 'json' | 'pretty' = 'json'): Logger {
  const options = { name: service, level, base: { service } };
  if (format === 'json') return pino(options);
  return pino({ ...options, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' } } });
}
