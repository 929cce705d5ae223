import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Standard output for the JSON lines, given up once it cannot be written. When nothing reads it any more
 * (the supervisor died and took the pipe's other end with it), a write fails with EPIPE and sonic-boom
 * 4.2.1 keeps the failed line; pino flushes it synchronously at exit, and that flush sleeps and retries
 * every failure but EAGAIN's for ever, so the process never ends. Destroyed on the first error, the
 * destination is skipped by pino's exit flush, and the service stops as it should.
 */
function standardOutput(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, sync: true });
  destination.on('error', () => destination.destroy());
  return destination;
}

/**
 * JSON lines for machines (the default, and what Kubernetes collects); `pretty` for a person at a
 * terminal (`npm run dev` sets LOG_FORMAT=pretty).
 */
export function createLogger(service: string, level: string, format: 'json' | 'pretty' = 'json'): Logger {
  const options = { name: service, level, base: { service } };
  if (format === 'json') return pino(options, standardOutput());
  return pino({ ...options, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' } } });
}
