import { STATUS_CODES } from 'node:http';
import { StreamSeats, clientOf, describeHttpFailure, requestIdOf, requestLogger, type Lifecycle, type Logger } from '@blog/service-kit';
import type { Request, RequestHandler, Response } from 'express';
import type { Agent, Dispatcher } from 'undici';
import { upstreamAgent } from './upstreamAgent';
import { copyResponseHeaders, failureAnswer, forwardedHeaders } from './forwarding';
import type { WriteAttempts } from './writeAttempts';

/** A service the API paths are routed to. */
export interface Upstream {
  /** Named in error answers, so the page can say which service is down. */
  name: string;
  /** Origin such as `http://posts-clusterip-srv:4000`; a path on it is ignored. */
  url: string;
}

export interface ProxyOptions {
  logger: Logger;
  lifecycle: Lifecycle;
  /** Longest wait for a service's status line and headers. */
  timeoutMs: number;
  /** Longest wait for a connection before the service counts as down. */
  connectTimeoutMs: number;
  /** Where each write and its answer is recorded, for the flow page's traces. */
  attempts?: WriteAttempts;
  /** What the client server knows of a service's state (the supervisor's, or its readiness), for the answer when it does not answer. */
  stateOf?: (service: string) => Promise<string | null>;
}

/** How long a failed request waits to learn the service's state before it is answered without it. */
const STATE_WAIT_MS = 1_000;

/** An event stream ends when nothing, not even a heartbeat (query sends one every 15 s), came for this long. */
const STREAM_IDLE_MS = 45_000;

/**
 * Routes a request to a service over kept-alive connections (undici's Agent) and streams the answer back.
 * undici rather than http-proxy-middleware: undici is already what the services use to call the bus, it is
 * maintained with Node itself, and it gives separate connect, header and body timeouts; the current
 * http-proxy-middleware needs Node 22 and the older one rests on http-proxy, unmaintained since 2020.
 */
/**
 * Event streams passed through to the services: at most 50 at once (what query gives one client, this
 * server), and at most 10 for one browser (address), so one cannot hold every place.
 */
const PROXIED_STREAMS = { total: 50, perClient: 10 };

export class ApiProxy {
  private readonly agent: Agent;
  private readonly streams = new Set<AbortController>();
  private readonly seats = new StreamSeats(PROXIED_STREAMS.total, PROXIED_STREAMS.perClient);

  constructor(private readonly options: ProxyOptions) {
    this.agent = upstreamAgent(options);
    // Long-lived event streams end when the server starts draining, so a shutdown is not held open by them;
    // the browser's EventSource reconnects, to another pod in Kubernetes.
    options.lifecycle.onDrain(() => {
      for (const controller of this.streams) controller.abort();
    });
  }

  /** A handler for ordinary requests: the answer must start within the timeout and keep flowing. */
  to(upstream: Upstream): RequestHandler {
    return (req, res) => this.forward(req, res, upstream, false);
  }

  /** A handler for a server-sent event stream: no overall time limit, ended by the drain or by silence. */
  stream(upstream: Upstream): RequestHandler {
    return (req, res) => {
      const client = clientOf(req.socket);
      if (this.seats.take(client) !== 'taken') {
        res.setHeader('retry-after', '5');
        res.status(503).json({ error: 'too many live streams open; the page polls instead, or try again later', details: [] });
        return;
      }
      res.once('close', () => this.seats.give(client));
      void this.forward(req, res, upstream, true);
    };
  }

  async close(): Promise<void> {
    for (const controller of this.streams) controller.abort();
    await this.agent.close();
  }

  private async forward(req: Request, res: Response, upstream: Upstream, isStream: boolean): Promise<void> {
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', onClose);
    if (isStream) this.streams.add(controller);
    const done = () => {
      res.off('close', onClose);
      this.streams.delete(controller);
    };
    const log = requestLogger(req, this.options.logger);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let ownAnswer: string | undefined;
    if (hasBody) this.recordWhenAnswered(req, res, upstream, () => ownAnswer);
    try {
      const answer = await this.agent.request({
        origin: new URL(upstream.url).origin,
        path: req.originalUrl,
        method: req.method as Dispatcher.HttpMethod,
        headers: forwardedHeaders(req),
        body: hasBody ? req : undefined,
        signal: controller.signal,
        bodyTimeout: isStream ? STREAM_IDLE_MS : this.options.timeoutMs,
      });
      res.status(answer.statusCode);
      copyResponseHeaders(res, answer.headers);
      if (isStream) res.flushHeaders();
      const body = answer.body;
      body.on('end', done);
      body.on('error', (error) => {
        done();
        // A stream ended by the drain or by silence closes cleanly, so the browser's EventSource reconnects.
        if (isStream) {
          if (!res.writableEnded) res.end();
          return;
        }
        if (!controller.signal.aborted) log.warn({ upstream: upstream.name, err: error }, 'answer from a service broke off');
        res.destroy();
      });
      res.on('close', () => {
        if (!body.readableEnded) body.destroy();
      });
      body.pipe(res);
    } catch (error) {
      done();
      if (controller.signal.aborted && (res.destroyed || this.options.lifecycle.isDraining)) {
        if (!res.headersSent && !res.destroyed) res.status(503).json({ error: 'the client server is shutting down; try again', details: [] });
        return;
      }
      const failure = failureAnswer(error, upstream, req.method, this.options.timeoutMs);
      log.warn({ upstream: upstream.name, url: upstream.url, status: failure.status, reason: describeHttpFailure(error) }, 'service did not answer');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A request body the service never read must not hold the connection: drain it before answering.
      if (hasBody && !req.readableEnded) req.resume();
      ownAnswer = failure.error;
      const state = await this.stateOf(upstream.name);
      if (res.destroyed) return;
      res
        .status(failure.status)
        .set('cache-control', 'no-store')
        .json({ error: failure.error, details: [], service: { name: upstream.name, state } });
    }
  }

  /** The service's state as the client server knows it, or null when it does not within a second. */
  private async stateOf(name: string): Promise<string | null> {
    if (!this.options.stateOf) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), STATE_WAIT_MS)));
    try {
      return await Promise.race([this.options.stateOf(name).catch(() => null), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private recordWhenAnswered(req: Request, res: Response, upstream: Upstream, ownAnswer: () => string | undefined): void {
    const { attempts } = this.options;
    if (!attempts) return;
    const started = performance.now();
    const at = new Date().toISOString();
    const key = req.headers['idempotency-key'];
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 0;
      attempts.record({
        requestId: requestIdOf(req) ?? null,
        key: typeof key === 'string' ? key.slice(0, 255) : null,
        service: upstream.name,
        path: req.originalUrl.slice(0, 300),
        status,
        answer: status === 0 ? 'the caller went away before the answer' : (ownAnswer() ?? STATUS_CODES[status] ?? String(status)),
        at,
        ms: Math.round(performance.now() - started),
      });
    });
  }
}
