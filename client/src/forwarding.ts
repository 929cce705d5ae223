import type { IncomingHttpHeaders } from 'node:http';
import { httpFailureCode, neverReached, requestIdOf } from '@blog/service-kit';
import type { Request, Response } from 'express';
import type { Dispatcher } from 'undici';
import type { Upstream } from './proxy';

/** What a proxied request carries to the service and back, and the answer when the service gave none. */

// Headers about one connection, not the message (RFC 9110 section 7.6.1), plus those undici sets itself.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);

/** The answer the browser gets when the service did not answer: always JSON, never a hang or an HTML page. */
export function failureAnswer(error: unknown, upstream: Upstream, method: string, timeoutMs: number): { status: number; error: string } {
  // A connection that could not be made: the request never reached the service, so retrying is safe.
  if (neverReached(error)) {
    return { status: 503, error: `the ${upstream.name} service is unavailable; nothing was sent to it, so try again` };
  }
  if (httpFailureCode(error) === 'UND_ERR_HEADERS_TIMEOUT') {
    return {
      status: 504,
      error: `the ${upstream.name} service did not answer within ${Math.round(timeoutMs / 1000)} s` +
        (method === 'GET' ? '' : '; the change may still appear, so look before sending it again'),
    };
  }
  // The connection broke after the request went out: a read can simply be repeated, a write may have happened.
  if (method === 'GET') return { status: 503, error: `the ${upstream.name} service is unavailable; try again` };
  return {
    status: 502,
    error: `lost the connection to the ${upstream.name} service; the change may or may not have been saved`,
  };
}

export function forwardedHeaders(req: Request): Record<string, string | string[]> {
  const named = new Set(
    String(req.headers.connection ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers as IncomingHttpHeaders)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    headers[name] = value;
  }
  const priorFor = req.headers['x-forwarded-for'];
  const peer = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${peer}` : peer;
  headers['x-forwarded-proto'] = req.protocol;
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  // The same id in the client's and the service's request logs.
  const id = requestIdOf(req);
  if (id) headers['x-request-id'] = id;
  return headers;
}

export function copyResponseHeaders(res: Response, headers: Dispatcher.ResponseData['headers']): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name.toLowerCase())) continue;
    res.setHeader(name, value);
  }
}
