import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { EngineOutcomeUnknownError, EngineUnavailableError, NATS_SERVER_ADVICE, natsServerTooOld, type EngineProblem } from '@blog/contracts';
import { STREAM_REPAIR_ACTION, type StreamWatch } from './streamCheck';
import { ensureStreams } from './streams';

export interface NatsOptions {
  /** nats://host:port of one or more servers of the cluster; the client finds the rest. */
  servers: string[];
  /** Shown by the server as the connection's name: the service. */
  name: string;
  /** Copies of each stream across the cluster: 1 on one server, 3 in a cluster of three. */
  replicas: number;
  /** How long the stream remembers an event id, so a retried publish is stored once. */
  dedupeWindowMs: number;
  /** Longest wait for one answer from the server. */
  timeoutMs: number;
  user?: string;
  password?: string;
}

/** A server that answers no ping for this long, this many times over, is left for another. */
const PING_EVERY_MS = 2_000;
const MAX_PINGS_OUT = 3;

/** An open connection, with the JetStream client and manager on it. */
export interface NatsLink {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/**
 * Connects on first use and keeps the connection: the client reconnects by itself (to any server of the
 * cluster) for as long as the process runs. A first connect that fails is tried again on the next use.
 */
export class NatsConnector {
  private link: Promise<NatsLink> | null = null;
  private opened: NatsLink | null = null;
  /** The server this connects to is one the engine does not run on (too old), as /readyz says it. */
  private refused: EngineProblem | null = null;
  /** Set while the client has lost its server and looks for another; nothing sent meanwhile is sure to arrive. */
  private offline = false;
  private readonly onlineAgain = new Set<() => void>();

  /**
   * `watch`, when given, checks the events stream on each new connection before it is handed out and
   * after each reconnect; the services and the gateway pass one, the repair (which must reach a damaged
   * stream) does not.
   */
  constructor(
    readonly options: NatsOptions,
    private readonly watch: StreamWatch | null = null,
  ) {}

  /** The open link, if connecting has finished; lets a caller skip an await on the hot path. */
  current(): NatsLink | null {
    return this.opened;
  }

  connected(): Promise<NatsLink> {
    this.link ??= this.open().catch((error: unknown) => {
      this.link = null;
      throw error;
    });
    return this.link;
  }

  private async open(): Promise<NatsLink> {
    const { servers, name, timeoutMs, user, password } = this.options;
    // noAsyncTraces: otherwise the client builds an Error (a stack trace) for every request before sending
    // it, in case it fails; that was 7% of the comments service's CPU under load.
    // A server that stops answering (frozen, its machine gone without a reset) is left after PING_EVERY_MS
    // times MAX_PINGS_OUT unanswered pings; the client's default (two minutes, twice) held writes for minutes.
    const nc = await connect({
      servers,
      name,
      timeout: timeoutMs,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: PING_EVERY_MS,
      maxPingOut: MAX_PINGS_OUT,
      user,
      pass: password,
      noAsyncTraces: true,
    });
    try {
      this.refuseOldServer(nc.info?.version ?? 'unknown');
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
      await ensureStreams(jsm, this.options);
      const link = { nc, js: jetstream(nc, { timeout: timeoutMs }), jsm };
      await this.watch?.start(link);
      this.opened = link;
      void this.followConnection(nc);
      return link;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** Whether the client has a server right now. */
  get online(): boolean {
    return this.opened !== null && !this.offline;
  }

  /** Resolves true once the client has a server again (at once if it has), false after `ms`. */
  untilOnline(ms: number): Promise<boolean> {
    if (this.online) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (yes: boolean) => {
        clearTimeout(timer);
        this.onlineAgain.delete(back);
        resolve(yes);
      };
      const back = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.onlineAgain.add(back);
    });
  }

  private async followConnection(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.offline = true;
      if (status.type === 'reconnect') {
        this.offline = false;
        for (const back of this.onlineAgain) back();
      }
    }
  }

  /** Refuses a server older than the engine needs, once with a log line's worth of words and then on every call. */
  private refuseOldServer(version: string): void {
    const tooOld = natsServerTooOld(version);
    this.refused = tooOld ? { status: 'unsupported NATS server', problems: [`${tooOld} (at ${this.options.servers.join(', ')})`], action: `Upgrade the NATS servers. ${NATS_SERVER_ADVICE}.` } : null;
    if (this.refused) throw new EngineUnavailableError(`${this.refused.problems[0]}. ${this.refused.action}`, `the event log's NATS server is too old: ${tooOld}`);
  }

  /**
   * Throws StreamDamagedError when the stream was found damaged: nothing may be published into it or
   * read from it as whole. Connects first, so a new connection is checked; a failure to connect is left
   * to the caller's own call, which reports it its own way.
   */
  async assertWhole(): Promise<void> {
    if (!this.opened) await this.connected().catch(() => undefined);
    this.watch?.assertWhole();
  }

  /** The furthest seq this connection has seen the stream reach (0 without a watch): read before a publish is sent. */
  furthestSeen(): number {
    return this.watch?.furthestSeen ?? 0;
  }

  /**
   * A publish's receipt, checked against what the stream had reached before it was sent. A new event
   * handed a seq already used (the stream's end moved back) is stored where the consumers will not look:
   * the stream is damaged from now on, and the event's fate is the repair's (it keeps what it finds).
   */
  receipt(seq: number, duplicate: boolean, furthestBefore: number): void {
    if (this.watch?.stored(seq, duplicate, furthestBefore)) {
      throw new EngineOutcomeUnknownError(`the NATS stream handed this event seq ${seq}, which it had handed out before: the log is damaged. The operator must ${STREAM_REPAIR_ACTION}`);
    }
  }

  /** The stream found damaged (acknowledged events gone from a server's store), or null. */
  problem(): EngineProblem | null {
    return this.refused ?? this.watch?.problem() ?? null;
  }

  async close(): Promise<void> {
    this.watch?.stop();
    const link = this.opened;
    this.opened = null;
    this.link = null;
    if (link && !link.nc.isClosed()) await link.nc.drain().catch(() => link.nc.close());
  }
}
