import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Lifecycle } from '@blog/service-kit';
import request from 'supertest';
import { createApp } from '../src/app';
import { ApiProxy, type Upstream } from '../src/proxy';
import { PAGE_CSP } from '../src/staticFiles';
import { WriteAttempts } from '../src/writeAttempts';
import { freePort } from '../../test/support/localSystem';
import { silentLogger } from '../../test/support/silentLogger';
import { makeTempDir, removeTempDirs } from '../../test/support/tempDirs';
import { waitFor } from '../../test/support/waitFor';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The port the request came from: the same one for requests on one kept-alive connection. */
  remotePort: number | undefined;
}

/** A stand-in service on a loopback port: records what it is sent and answers with `respond`. */
class FakeService {
  readonly seen: Seen[] = [];
  private readonly server: http.Server;
  respond: (req: Seen, res: http.ServerResponse) => void = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  constructor(readonly name: string) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
          remotePort: req.socket.remotePort,
        };
        this.seen.push(seen);
        this.respond(seen, res);
      });
    });
  }

  async start(): Promise<Upstream> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return { name: this.name, url: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}` };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (_req: Seen, res: http.ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
};

function makeBuild(): string {
  const dir = makeTempDir('blog-client-build-');
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Blog</title><div id="root"></div><script type="module" src="/assets/index-AbC123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'index-AbC123.js'), 'console.log("hello")');
  fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

const services = { posts: new FakeService('posts'), comments: new FakeService('comments'), query: new FakeService('query') };
let upstreams: Record<keyof typeof services, Upstream>;
const proxies: ApiProxy[] = [];

beforeAll(async () => {
  upstreams = {
    posts: await services.posts.start(),
    comments: await services.comments.start(),
    query: await services.query.start(),
  };
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(Object.values(services).map((service) => service.stop()));
  removeTempDirs();
});

beforeEach(() => {
  for (const service of Object.values(services)) {
    service.seen.length = 0;
    service.respond = json(200, {});
  }
});

function setUp({
  timeoutMs = 2_000,
  staticDir = makeBuild(),
  routes = upstreams,
  attempts,
  stateOf,
}: { timeoutMs?: number; staticDir?: string; routes?: typeof upstreams; attempts?: WriteAttempts; stateOf?: (name: string) => Promise<string | null> } = {}) {
  const lifecycle = new Lifecycle();
  lifecycle.markReady();
  const proxy = new ApiProxy({ logger: silentLogger, lifecycle, timeoutMs, connectTimeoutMs: 500, attempts, stateOf });
  proxies.push(proxy);
  const app = createApp({ lifecycle, logger: silentLogger, upstreams: routes, proxy, staticDir });
  return { app, lifecycle, proxy };
}

describe('health', () => {
  it('when asked, then /healthz and /readyz answer 200 without calling any service', async () => {
    const { app } = setUp();
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    await request(app).get('/readyz').expect(200, { status: 'ready' });
    expect(Object.values(services).flatMap((service) => service.seen)).toEqual([]);
  });

  it('when shutting down, then /readyz answers 503', async () => {
    const { app, lifecycle } = setUp();
    lifecycle.markDraining();
    await request(app).get('/readyz').expect(503);
  });
});

describe('routing the API paths as the ingress does', () => {
  it.each([
    ['POST', '/posts', 'posts'],
    ['POST', '/posts/create', 'posts'],
    ['GET', '/posts', 'query'],
    ['GET', '/posts/abc/comments', 'comments'],
    ['POST', '/posts/abc/comments', 'comments'],
  ] as const)('when the page sends %s %s, then %s gets it', async (method, url, service) => {
    const { app } = setUp();
    const call = method === 'GET' ? request(app).get(url) : request(app).post(url).send({ title: 'x' });
    await call.expect(200);
    expect(services[service].seen).toMatchObject([{ method, url }]);
    for (const other of Object.values(services)) if (other.name !== service) expect(other.seen).toEqual([]);
  });

  it('when a write is sent, then the body, its type, the request id and forwarding headers reach the service', async () => {
    const { app } = setUp();
    services.comments.respond = json(201, { id: 'c1', content: 'hello', status: 'pending' }, { 'x-service': 'comments' });

    const response = await request(app)
      .post('/posts/p1/comments?x=1')
      .set('x-request-id', 'req-42')
      .set('connection', 'keep-alive, x-private')
      .set('x-private', 'hop')
      .send({ content: 'hello' });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: 'c1', content: 'hello', status: 'pending' });
    expect(response.headers['x-service']).toBe('comments');
    const [seen] = services.comments.seen;
    expect(seen).toMatchObject({ url: '/posts/p1/comments?x=1', body: '{"content":"hello"}' });
    expect(seen!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-request-id': 'req-42',
      'x-forwarded-for': expect.stringContaining('127.0.0.1'),
      'x-forwarded-proto': 'http',
    });
    expect(seen!.headers['x-private']).toBeUndefined();
  });

  it('when the service refuses the input, then its status and JSON error reach the page unchanged', async () => {
    const { app } = setUp();
    const refusal = { error: 'invalid post', details: [{ path: 'title', message: 'Too small' }] };
    services.posts.respond = json(400, refusal);
    const response = await request(app).post('/posts').send({ title: '' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual(refusal);
  });

  it('when many requests are sent one after another, then they share kept-alive connections', async () => {
    const { app } = setUp();
    for (let i = 0; i < 5; i += 1) await request(app).get('/posts').expect(200);
    const ports = new Set(services.query.seen.map((seen) => seen.remotePort));
    expect(services.query.seen).toHaveLength(5);
    expect(ports.size).toBe(1);
  });

  it('when a path is not an API path, then it answers a JSON 404 without calling a service', async () => {
    const { app } = setUp();
    const response = await request(app).delete('/posts');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: expect.any(String) });
  });
});

describe('a service that is down or slow', () => {
  it('when the service is not listening, then the page gets a JSON 503 naming it, at once', async () => {
    const { app } = setUp({ routes: { ...upstreams, comments: { name: 'comments', url: `http://127.0.0.1:${await freePort()}` } } });
    const started = Date.now();
    const response = await request(app).post('/posts/p1/comments').send({ content: 'hi' });
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ error: expect.stringContaining('comments service is unavailable'), details: [], service: { name: 'comments', state: null } });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('when the client server knows the state of the service that did not answer, then the answer says it', async () => {
    const asked: string[] = [];
    const stateOf = async (name: string) => (asked.push(name), 'stopped');
    const { app } = setUp({ routes: { ...upstreams, comments: { name: 'comments', url: `http://127.0.0.1:${await freePort()}` } }, stateOf });
    const response = await request(app).post('/posts/p1/comments').send({ content: 'hi' });
    expect(response.status).toBe(503);
    expect(response.body.service).toEqual({ name: 'comments', state: 'stopped' });
    expect(asked).toEqual(['comments']);
  });

  it('when finding the state takes too long, then the answer comes within a second or so without it', async () => {
    const stateOf = () => new Promise<string | null>(() => undefined);
    const { app } = setUp({ routes: { ...upstreams, posts: { name: 'posts', url: `http://127.0.0.1:${await freePort()}` } }, stateOf });
    const started = Date.now();
    const response = await request(app).post('/posts').send({ title: 'x' });
    expect(response.body.service).toEqual({ name: 'posts', state: null });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('when a keyed write is retried until the service is back, then each attempt and its answer is recorded under its request id and key', async () => {
    const attempts = new WriteAttempts();
    const port = await freePort();
    const { app } = setUp({ routes: { ...upstreams, comments: { name: 'comments', url: `http://127.0.0.1:${port}` } }, attempts });
    const send = () => request(app).post('/posts/p1/comments').set('Idempotency-Key', 'k-7').set('X-Request-Id', 'k-7').send({ content: 'hi' });
    await send().expect(503);
    const revived = http.createServer((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"c","content":"hi","status":"pending"}'));
    await new Promise<void>((resolve) => revived.listen(port, '127.0.0.1', resolve));
    try {
      await send().expect(201);
      await request(app).get('/posts');
    } finally {
      revived.closeAllConnections();
      revived.close();
    }

    await waitFor('both attempts recorded', () => attempts.recent().length === 2);
    expect(attempts.recent()).toEqual([
      expect.objectContaining({ requestId: 'k-7', key: 'k-7', service: 'comments', path: '/posts/p1/comments', status: 503, answer: expect.stringContaining('comments service is unavailable') }),
      expect.objectContaining({ requestId: 'k-7', key: 'k-7', service: 'comments', status: 201, answer: 'Created', ms: expect.any(Number) }),
    ]);
  });

  it('when the service\'s name does not resolve, then the page gets a JSON 503', async () => {
    const { app } = setUp({ routes: { ...upstreams, query: { name: 'query', url: 'http://no-such-service.invalid:4002' } } });
    const response = await request(app).get('/posts');
    expect(response.status).toBe(503);
    expect(response.body.error).toContain('query service is unavailable');
  });

  it('when the service takes longer than the timeout, then the page gets a JSON 504 saying the write may still appear', async () => {
    const { app } = setUp({ timeoutMs: 300 });
    services.posts.respond = () => undefined; // never answers
    const response = await request(app).post('/posts').send({ title: 'slow' });
    expect(response.status).toBe(504);
    expect(response.body.error).toMatch(/posts service did not answer.*may still appear/);
  });

  it('when the service drops the connection after the request, then a write is answered 502 and a read 503', async () => {
    const { app } = setUp();
    services.posts.respond = (_req, res) => res.socket?.destroy();
    services.query.respond = (_req, res) => res.socket?.destroy();
    const write = await request(app).post('/posts').send({ title: 'lost' });
    expect(write.status).toBe(502);
    expect(write.body.error).toContain('may or may not have been saved');
    const read = await request(app).get('/posts');
    expect(read.status).toBe(503);
  });

  it('when the service comes back, then the next request goes through', async () => {
    const port = await freePort();
    const { app } = setUp({ routes: { ...upstreams, posts: { name: 'posts', url: `http://127.0.0.1:${port}` } } });
    await request(app).post('/posts').send({ title: 'x' }).expect(503);
    const revived = http.createServer((_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"p","title":"x"}'));
    await new Promise<void>((resolve) => revived.listen(port, '127.0.0.1', resolve));
    try {
      await request(app).post('/posts').send({ title: 'x' }).expect(201, { id: 'p', title: 'x' });
    } finally {
      revived.closeAllConnections();
      revived.close();
    }
  });
});

describe('the live update stream', () => {
  function openStream(port: number): Promise<{ res: http.IncomingMessage; text: () => string }> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/updates', headers: { accept: 'text/event-stream' } }, (res) => {
          let received = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (received += chunk));
          resolve({ res, text: () => received });
        })
        .on('error', reject);
    });
  }

  it('when query sends events, then each reaches the page as it is sent, and a drain ends the stream', async () => {
    const { app, lifecycle } = setUp();
    let streamToPage: http.ServerResponse | undefined;
    services.query.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      streamToPage = res;
    };
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { res, text } = await openStream((server.address() as AddressInfo).port);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream');
      await waitFor('the greeting', async () => text().includes(': connected'));

      streamToPage!.write('event: post\ndata: {"kind":"post","post":{"id":"p","title":"t"}}\n\n');
      await waitFor('the first event', async () => text().includes('"title":"t"'));

      const ended = new Promise((resolve) => res.on('end', resolve));
      lifecycle.markDraining();
      await ended;
    } finally {
      streamToPage?.end();
      server.closeAllConnections();
      server.close();
    }
  });

  it('when query is down, then the stream is refused with a JSON 503 (the page then polls)', async () => {
    const { app } = setUp({ routes: { ...upstreams, query: { name: 'query', url: `http://127.0.0.1:${await freePort()}` } } });
    const response = await request(app).get('/updates');
    expect(response.status).toBe(503);
    expect(response.body.error).toContain('query service is unavailable');
  });
});

describe('the built page', () => {
  it('when the page is asked for, then index.html is served, revalidated on every load, with a policy that allows only this origin', async () => {
    const { app } = setUp();
    for (const url of ['/', '/index.html']) {
      const response = await request(app).get(url);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.text).toContain('<div id="root"></div>');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
    }
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toContain('unsafe-inline');
    // A plain-http NodePort or port-forward must not be told to fetch its scripts over https.
    expect(PAGE_CSP).not.toContain('upgrade-insecure-requests');
  });

  it('when the flow page is asked for, then the same page is served (it shows the flow from its path)', async () => {
    const { app } = setUp();
    const response = await request(app).get('/flow');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<div id="root"></div>');
    expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
  });

  it('when a hashed asset is asked for, then it is cached for a year as immutable', async () => {
    const { app } = setUp();
    const response = await request(app).get('/assets/index-AbC123.js');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('when a file outside assets/ is asked for, then it is cached briefly', async () => {
    const { app } = setUp();
    const response = await request(app).get('/favicon.svg');
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('when an asset does not exist, then it answers a JSON 404, not the page', async () => {
    const { app } = setUp();
    const response = await request(app).get('/assets/missing.js');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });

  it('when a path tries to climb out of the build folder, then nothing outside it is served', async () => {
    const { app } = setUp();
    const response = await request(app).get('/assets/..%2f..%2f..%2fetc%2fpasswd');
    expect([400, 403, 404]).toContain(response.status);
    expect(response.text).not.toContain('root:');
  });

  it('when the page was never built, then / says how to build it', async () => {
    const { app } = setUp({ staticDir: makeTempDir('blog-client-empty-') });
    const response = await request(app).get('/');
    expect(response.status).toBe(503);
    expect(response.body.error).toContain('npm run build -w client');
  });
});
