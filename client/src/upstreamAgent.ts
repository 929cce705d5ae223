import { Agent } from 'undici';

/**
 * Kept-alive connections to the services, each call bounded: connecting, waiting for the headers and
 * for the body. Kept alive 4 s, under Node's own 5 s server keep-alive, so a connection the service is
 * about to close is never reused.
 */
export function upstreamAgent({ connectTimeoutMs, timeoutMs, connections }: { connectTimeoutMs: number; timeoutMs: number; connections?: number }): Agent {
  return new Agent({
    connect: { timeout: connectTimeoutMs },
    keepAliveTimeout: 4_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(connections === undefined ? {} : { connections }),
  });
}
