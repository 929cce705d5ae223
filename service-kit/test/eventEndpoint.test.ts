import http, { type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { AppError, Lifecycle, ServiceMetrics, createServiceApp, withEventEndpoint, type JsonPostHandler } from '../src';
import { silentLogger } from '../../test/support/silentLogger';

const TOKEN = 'a-bus-token-of-twenty-chars';
const LIMIT = 1024;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

interface Running {
  post(body: string | Buffer, headers?: http.OutgoingHttpHeaders, path?: string): Promise<Answer>;
  close(): Promise<void>;
}

async function serve(listener: RequestListener): Promise<Running> {
  const server: Server = await new Promise((resolve) => {
    const s = http.createServer(listener).listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true });
  return {
    post: (body, headers = {}, path = '/events') =>
      new Promise((resolve, reject) => {
        const request = http.request({ port, host: '127.0.0.1', path, method: 'POST', agent, headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : null }));
        });
        request.on('error', reject);
        request.end(body);
      }),
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (body: string | Buffer, extra: http.OutgoingHttpHeaders = {}) => ({
  'content-type': 'application/json',
  'content-length': Buffer.byteLength(body),
  authorization: `Bearer ${TOKEN}`,
  ...extra,
});

/** The endpoint in front of a stand-in for the full app, which records what reached it and answers 418. */
async function endpointBeforeStandIn(handle: JsonPostHandler) {
  const reachedApp: string[] = [];
  const standIn: RequestListener = (req, res) => {
    reachedApp.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(418, { 'content-type': 'application/json' }).end('{"from":"app"}');
  };
  const metrics = new ServiceMetrics();
  const running = await serve(withEventEndpoint(standIn, { path: '/events', limitBytes: LIMIT, handle }, { logger: silentLogger, metrics, security: { busToken: TOKEN } }));
  return { running, reachedApp, metrics };
}

const echo: JsonPostHandler = async (body, headers) => ({ status: 200, body: { got: body, marker: headers['x-marker'] ?? null } });

describe('the event endpoint', () => {
  it('when a plain JSON POST with the bus token arrives, then the handler answers it without the full app', async () => {
    const { running, reachedApp, metrics } = await endpointBeforeStandIn(echo);
    try {
      const body = JSON.stringify([{ type: 'X', data: { n: 1 } }]);
      const answer = await running.post(body, json(body, { 'x-marker': 'm1' }));

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.body).toEqual({ got: [{ type: 'X', data: { n: 1 } }], marker: 'm1' });
      expect(reachedApp).toEqual([]);
      const counted = await metrics.registry.getSingleMetricAsString('http_requests_total');
      expect(counted).toContain('http_requests_total{method="POST",route="/events",status="200"} 1');
    } finally {
      await running.close();
    }
  });

  it('when a POST is for another path, then it is left to the full app', async () => {
    const { running, reachedApp } = await endpointBeforeStandIn(echo);
    try {
      const answer = await running.post('{"a":1}', json('{"a":1}'), '/other');

      expect(answer.status).toBe(418);
      expect(reachedApp).toEqual(['POST /other']);
    } finally {
      await running.close();
    }
  });

  it.each([
    ['no bus token', { authorization: undefined }, 401],
    ['a wrong bus token', { authorization: 'Bearer nope' }, 401],
    ['another content type', { 'content-type': 'text/plain' }, 415],
    ['a declared length over the limit', { 'content-length': LIMIT + 1 }, 413],
  ])('when the request has %s, then the endpoint itself refuses it with %i and neither the handler nor the app runs', async (_name, override, status) => {
    const handle = jest.fn(echo);
    const { running, reachedApp } = await endpointBeforeStandIn(handle);
    try {
      const oversized = override['content-length' as keyof typeof override] !== undefined;
      const body = oversized ? Buffer.alloc(LIMIT + 1, 32) : '{"a":1}';
      const headers: http.OutgoingHttpHeaders = { ...json(body), ...override };
      for (const [key, value] of Object.entries(headers)) if (value === undefined) delete headers[key];
      const answer = await running.post(body, headers);

      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error: expect.any(String), details: expect.any(Array) });
      expect(handle).not.toHaveBeenCalled();
      expect(reachedApp).toEqual([]);
    } finally {
      await running.close();
    }
  });

  it.each([
    ['malformed JSON', '{"a":', 400, 'malformed JSON body'],
    ['a JSON string rather than an object', '"text"', 400, 'malformed JSON body'],
    ['nesting deeper than allowed', `${'['.repeat(70)}${']'.repeat(70)}`, 400, 'JSON body not accepted'],
    ['a lone surrogate', '{"a":"\\ud800"}', 400, 'JSON body not accepted'],
  ])('when the body is %s, then it answers %i with a JSON error and the handler never runs', async (_name, body, status, error) => {
    const handle = jest.fn(echo);
    const { running } = await endpointBeforeStandIn(handle);
    try {
      const answer = await running.post(body, json(body));

      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error, details: expect.any(Array) });
      expect(handle).not.toHaveBeenCalled();
    } finally {
      await running.close();
    }
  });

  it('when the handler refuses with an AppError, then its status and details are the answer', async () => {
    const { running } = await endpointBeforeStandIn(async () => {
      throw new AppError(422, 'not like that', [{ path: 'a', message: 'wrong' }]);
    });
    try {
      const answer = await running.post('{}', json('{}'));
      expect(answer).toMatchObject({ status: 422, body: { error: 'not like that', details: [{ path: 'a', message: 'wrong' }] } });
    } finally {
      await running.close();
    }
  });

  it('when the handler fails unexpectedly, then it answers 500 without internals and keeps serving', async () => {
    let calls = 0;
    const { running } = await endpointBeforeStandIn(async () => {
      calls += 1;
      if (calls === 1) throw new Error('secret internals');
      return { status: 200, body: { ok: true } };
    });
    try {
      expect(await running.post('{}', json('{}'))).toMatchObject({ status: 500, body: { error: 'internal error', details: [] } });
      expect(await running.post('{}', json('{}'))).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      await running.close();
    }
  });
});

describe('an event endpoint in a service app', () => {
  async function serviceWithEndpoint() {
    const handle = jest.fn(echo);
    const app = createServiceApp({
      lifecycle: new Lifecycle(),
      logger: silentLogger,
      security: { busToken: TOKEN },
      busPaths: ['/events'],
      events: { path: '/events', limitBytes: LIMIT, handle },
    });
    return { running: await serve(app), handle };
  }

  it('when the body comes compressed, then the endpoint inflates it and the handler answers', async () => {
    const { running, handle } = await serviceWithEndpoint();
    try {
      const zipped = gzipSync(JSON.stringify({ a: 1 }));
      const answer = await running.post(zipped, json(zipped, { 'content-encoding': 'gzip' }));

      expect(answer).toMatchObject({ status: 200, body: { got: { a: 1 } } });
      expect(handle).toHaveBeenCalledTimes(1);
    } finally {
      await running.close();
    }
  });

  it.each([
    ['no bus token', { authorization: undefined }, 401],
    ['another content type', { 'content-type': 'text/plain' }, 415],
    ['a body over the limit', { 'content-length': LIMIT + 1 }, 413],
  ])('when the request has %s, then the service refuses it with %i', async (_name, override, status) => {
    const { running, handle } = await serviceWithEndpoint();
    try {
      const body = override['content-length' as keyof typeof override] ? `{"a":"${'x'.repeat(LIMIT)}"}` : '{"a":1}';
      const headers: http.OutgoingHttpHeaders = { ...json(body), ...override, 'content-length': Buffer.byteLength(body) };
      for (const [key, value] of Object.entries(headers)) if (value === undefined) delete headers[key];
      const answer = await running.post(body, headers);

      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error: expect.any(String), details: expect.any(Array) });
      expect(handle).not.toHaveBeenCalled();
    } finally {
      await running.close();
    }
  });
});
