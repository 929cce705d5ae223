/**
 * The bounded HTTP server every service runs, and the seats its long-lived streams share.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEngine, Subscription } from '@blog/contracts';
import { describeEngineFailure } from './engines/httpEngine';
import type { Lifecycle } from './operations';
import type { Logger } from './logger';
import type { EventReceiver } from './receiver';
import { FeedWatch } from './feedWatch';

export interface StartOptions {
  name: string;
  /** An Express app, or any request listener. */
  app: RequestListener;
  port: number;
  host: string;
  lifecycle: Lifecycle;
  logger: Logger;
  /**
   * The service's event engine and what takes its events in: the service replays the log through the
   * receiver (when it keeps state) before it reports ready, then subscribes to live events.
   */
  events?: { engine: EventEngine; receiver: EventReceiver };
  /** Work that must finish, after the server listens, before the service reports ready. */
  prepare?: () => Promise<void>;
  /** Runs after the server stopped accepting and finished its in-flight requests. */
  onShutdown?: () => Promise<void> | void;
  /** Longest a clean shutdown may take before the process exits anyway (keep under the pod's grace period). */
  shutdownTimeoutMs?: number;
}


/** Tries `work` until it succeeds or the service shuts down: the engine may not be reachable yet. */
async function untilDone<T>(work: () => Promise<T>, what: string, lifecycle: Lifecycle, logger: Logger): Promise<T | null> {
  let delayMs = 200;
  while (!lifecycle.isDraining) {
    try {
      return await work();
    } catch (error) {
      logger.warn({ reason: describeEngineFailure(error), retryInMs: delayMs }, `cannot ${what} yet; retrying`);
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
  return null;
}


export interface ConnectionLimits {
  /** The whole request, headers and body, must have arrived by then (Node's default is 300 s). */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** How often the two timeouts above are checked (Node's default is every 30 s). */
  checkEveryMs: number;
  /** Past this many open sockets, new ones are closed at once instead of slowing everyone. */
  maxConnections: number;
  /**
   * Past this many from one client (address), its new ones are closed at once: one client cannot take every
   * socket. Half the total, because locally every service, the bus and a benchmark all come from 127.0.0.1.
   */
  maxConnectionsPerClient: number;
}

/** What one client may hold: a body sent a byte at a time cannot pin a connection for minutes. */
export const CONNECTION_LIMITS: ConnectionLimits = { requestTimeoutMs: 15_000, headersTimeoutMs: 10_000, checkEveryMs: 2_000, maxConnections: 2_000, maxConnectionsPerClient: 1_000 };

export function createBoundedServer(app: RequestListener, limits: ConnectionLimits = CONNECTION_LIMITS): Server {
  const server = createServer(
    { requestTimeout: limits.requestTimeoutMs, headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: limits.checkEveryMs },
    app,
  );
  server.maxConnections = limits.maxConnections;
  const perClient = new Map<string, number>();
  server.on('connection', (socket) => {
    const client = clientOf(socket);
    const held = (perClient.get(client) ?? 0) + 1;
    if (held > limits.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    perClient.set(client, held);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
  });
  return server;
}

function listen(app: RequestListener, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createBoundedServer(app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Listens, replays the log, reports ready, and shuts down cleanly on SIGTERM or SIGINT. */
export async function startService(options: StartOptions): Promise<Server> {
  const { name, app, lifecycle, logger } = options;
  const server = await listen(app, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, `${name} listening`);

  let subscription: Subscription | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.markDraining();
    logger.info({ signal }, `${name} shutting down`);
    const forceExit = setTimeout(() => {
      logger.error(`${name} did not stop in time; exiting`);
      process.exit(1);
    }, options.shutdownTimeoutMs ?? 10_000);
    forceExit.unref();
    // Keep-alive clients would otherwise go on sending on their open connections: every answer from
    // now on closes its connection, and connections that fall idle are closed as they do.
    // Before the app's own listener, so the header is set before any answer starts.
    server.prependListener('request', (_req, res) => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    });
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearInterval(sweep);
    await subscription?.stop();
    await options.onShutdown?.();
    await options.events?.engine.close();
    logger.info(`${name} stopped`);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await options.prepare?.();
  const { engine, receiver } = options.events ?? {};
  if (receiver?.replays) {
    await untilDone(() => receiver.catchUp(), 'read the event log', lifecycle, logger);
    logger.info({ position: receiver.position }, `${name} replayed the event log`);
  }
  lifecycle.markReady();
  if (engine && receiver) {
    subscription = await untilDone(() => engine.subscribe(receiver), 'subscribe to live events', lifecycle, logger);
    // From now on readiness follows the log: behind it, not ready; the log out of reach, said so.
    const feed = new FeedWatch(engine, receiver, subscription, logger);
    lifecycle.watchProblems(() => feed.problem());
    lifecycle.watchRemarks(() => {
      const now = feed.state();
      return now.state === 'unreachable' ? { engine: now } : null;
    });
    feed.start();
    lifecycle.onDrain(() => feed.stop());
  }
  logger.info({ url: `http://localhost:${port}` }, `${name} ready`);
  return server;
}

/** Starts the service from a process's entry point: a failure to start is logged and ends the process. */
export function runService(options: StartOptions): void {
  startService(options).catch((error: unknown) => {
    options.logger.fatal({ err: error }, `${options.name} failed to start`);
    process.exit(1);
  });
}

/**
 * Places for long-lived streams (server-sent events), shared fairly: at most `total` open at once, and
 * at most `perClient` of them for one client (by its address), so one client holding every place it
 * may still leaves room for the others.
 */
export class StreamSeats {
  private readonly byClient = new Map<string, number>();
  private open = 0;

  constructor(
    readonly total: number,
    readonly perClient: number,
  ) {}

  /** Takes a place for `client`; answers why not when there is none: all taken, or this client's share. */
  take(client: string): 'taken' | 'full' | 'client full' {
    const held = this.byClient.get(client) ?? 0;
    if (held >= this.perClient) return 'client full';
    if (this.open >= this.total) return 'full';
    this.byClient.set(client, held + 1);
    this.open += 1;
    return 'taken';
  }

  give(client: string): void {
    const held = this.byClient.get(client) ?? 0;
    if (held <= 0) return;
    if (held === 1) this.byClient.delete(client);
    else this.byClient.set(client, held - 1);
    this.open -= 1;
  }

  get count(): number {
    return this.open;
  }
}

/** The address a request came from, as the seats count clients. */
export const clientOf = (socket: { remoteAddress?: string | undefined }): string => socket.remoteAddress ?? 'unknown';
