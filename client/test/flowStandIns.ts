import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a stand-in was asked. */
export interface Asked {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in HTTP service on a loopback port; `handle` answers, or nothing answers at all while `silent`. */
export class StandIn {
  readonly asked: Asked[] = [];
  private readonly server: http.Server;
  url = '';

  constructor(private handle: (asked: Asked, res: http.ServerResponse) => void) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const asked = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
        this.asked.push(asked);
        this.handle(asked, res);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  answerWith(handle: (asked: Asked, res: http.ServerResponse) => void): void {
    this.handle = handle;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** A service's /readyz: ready, or not ready with the body services answer. */
export function readyService(ready: () => boolean | { status: string; problems?: string[]; action?: string } = () => true): StandIn {
  return new StandIn((asked, res) => {
    if (asked.url !== '/readyz') return sendJson(res, 404, { error: 'no route', details: [] });
    const state = ready();
    if (state === true) return sendJson(res, 200, { status: 'ready' });
    sendJson(res, 503, state === false ? { status: 'starting' } : state);
  });
}

export interface StoredEventLike {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: 'application/json';
  requestid?: string;
  data: unknown;
  seq: number;
}

export function storedEvent(seq: number, overrides: Partial<StoredEventLike> = {}): StoredEventLike {
  return {
    specversion: '1.0',
    id: `event-${seq}`,
    source: '/comments',
    type: 'CommentCreated',
    time: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, seq)).toISOString(),
    datacontenttype: 'application/json',
    requestid: `req-${seq}`,
    data: { id: `c-${seq}`, postId: 'p1', content: 'hello', status: 'pending' },
    seq,
    ...overrides,
  };
}

/**
 * The bus's read endpoints and its dead-letter retry, with credentials checked as the real bus checks
 * them: `tokens` maps a token to its caller's name (none: no checks); only `operator` may retry.
 */
export class FakeBus extends StandIn {
  events: StoredEventLike[] = [];
  subscribers: unknown[] = [];
  deadLetters: unknown[] = [];
  tokens: Map<string, string> | null = null;
  retried: unknown[] = [];

  constructor() {
    super((asked, res) => this.route(asked, res));
  }

  /** Reads of the log that the flow stream's poller made (`after=` reads of more than one event). */
  get pageReads(): Asked[] {
    return this.asked.filter((asked) => asked.url.startsWith('/events?') && !asked.url.endsWith('limit=1'));
  }

  append(count: number, overrides: (seq: number) => Partial<StoredEventLike> = () => ({})): StoredEventLike[] {
    const start = (this.events.at(-1)?.seq ?? 0) + 1;
    const added = Array.from({ length: count }, (_, index) => storedEvent(start + index, overrides(start + index)));
    this.events.push(...added);
    return added;
  }

  private caller(asked: Asked): string | null | undefined {
    if (!this.tokens) return null;
    const presented = asked.headers.authorization;
    if (typeof presented !== 'string' || !presented.startsWith('Bearer ')) return undefined;
    return this.tokens.get(presented.slice('Bearer '.length));
  }

  private route(asked: Asked, res: http.ServerResponse): void {
    if (asked.url === '/readyz') return sendJson(res, 200, { status: 'ready' });
    const caller = this.caller(asked);
    if (caller === undefined) return sendJson(res, 401, { error: asked.headers.authorization ? 'wrong bus token' : 'this endpoint needs a bus token', details: [] });
    const url = new URL(asked.url, 'http://bus');
    if (asked.method === 'GET' && url.pathname === '/events') {
      const after = Number(url.searchParams.get('after') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      return sendJson(res, 200, this.events.filter((event) => event.seq > after).slice(0, limit));
    }
    if (asked.method === 'GET' && url.pathname === '/events/end') return sendJson(res, 200, { lastSeq: this.events.at(-1)?.seq ?? 0 });
    if (asked.method === 'GET' && url.pathname === '/subscribers') return sendJson(res, 200, this.subscribers);
    if (asked.method === 'GET' && url.pathname === '/dead-letters') return sendJson(res, 200, this.deadLetters);
    if (asked.method === 'POST' && url.pathname === '/dead-letters/retry') {
      if (caller !== null && caller !== 'operator') {
        return sendJson(res, 403, { error: `${caller} may not retry dead letters; that takes the operator credential (BUS_CREDENTIALS)`, details: [] });
      }
      this.retried.push(JSON.parse(asked.body));
      return sendJson(res, 202, { retrying: 1 });
    }
    sendJson(res, 404, { error: `no route for ${asked.method} ${url.pathname}`, details: [] });
  }
}

/** A subscriber as the bus lists it: `name` its service (the bus knows it), delivered to at `url`. */
export function subscriberStatus(name: string | null, url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    engine: 'embedded',
    url,
    position: 10,
    lag: 0,
    types: null,
    consecutiveFailures: 0,
    deliveries: 5,
    eventsDelivered: 10,
    failures: 0,
    lastError: null,
    lastSuccessAt: '2026-01-01T12:00:00.000Z',
    deadLettered: 0,
    ...overrides,
  };
}

/** The local supervisor's API as the launcher's engineer specified it. */
export class FakeSupervisor extends StandIn {
  moderationDelayMs = 0;
  states = new Map<string, string>([
    ['event-bus', 'ready'],
    ['posts', 'ready'],
    ['comments', 'ready'],
    ['moderation', 'ready'],
    ['query', 'ready'],
    ['client', 'ready'],
  ]);

  constructor() {
    super((asked, res) => this.route(asked, res));
  }

  private route(asked: Asked, res: http.ServerResponse): void {
    if (asked.method === 'GET' && asked.url === '/processes') {
      return sendJson(res, 200, {
        engine: 'embedded',
        moderationDelayMs: this.moderationDelayMs,
        processes: [...this.states].map(([name, state], index) => ({
          name,
          state,
          pid: state === 'stopped' ? null : 1000 + index,
          restarts: 0,
          url: `http://127.0.0.1:${4000 + index}`,
          lastExit: state === 'stopped' ? { code: null, signal: 'SIGTERM', at: '2026-01-01T12:00:00.000Z' } : null,
          nextStartAt: null,
        })),
      });
    }
    const action = /^\/processes\/([^/]+)\/(stop|start)$/.exec(asked.url);
    if (asked.method === 'POST' && action) {
      const [, name, verb] = action;
      if (!this.states.has(name!)) return sendJson(res, 404, { error: `no process ${name}`, details: [] });
      if (name === 'client') return sendJson(res, 409, { error: 'the client cannot stop itself', details: [] });
      this.states.set(name!, verb === 'stop' ? 'stopped' : 'starting');
      return sendJson(res, 202, { name, state: this.states.get(name!) });
    }
    if (asked.method === 'POST' && asked.url === '/moderation/delay') {
      this.moderationDelayMs = (JSON.parse(asked.body) as { ms: number }).ms;
      return sendJson(res, 202, { moderationDelayMs: this.moderationDelayMs });
    }
    sendJson(res, 404, { error: 'no route', details: [] });
  }
}

/** Reads a server-sent event stream: every `event:` message, parsed, as it arrives. */
export interface OpenStream {
  status: number;
  messages: { event: string; data: unknown }[];
  text: () => string;
  close(): void;
  ended: Promise<void>;
}

export function openStream(url: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      let raw = '';
      let buffer = '';
      const messages: { event: string; data: unknown }[] = [];
      res.setEncoding('utf8');
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
      });
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) messages.push({ event, data: JSON.parse(data) });
        }
      });
      resolve({ status: res.statusCode ?? 0, messages, text: () => raw, close: () => request.destroy(), ended });
    });
    request.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
  });
}
