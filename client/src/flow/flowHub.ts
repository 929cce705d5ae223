import type { ServerResponse } from 'node:http';
import { StreamSeats, describeHttpFailure, type Lifecycle, type Logger } from '@blog/service-kit';
import { streamable, type BusReader } from './busReader';
import { DEFAULT_FLOW_HUB_LIMITS, type FlowHubLimits } from './flowHubLimits';
import type { EventsMessage, FlowEvent, FlowSnapshot } from './wire';

export interface FlowHubDeps {
  bus: Pick<BusReader, 'readAfter' | 'lastSeq'>;
  snapshots: { latest(): Promise<FlowSnapshot> };
  lifecycle: Lifecycle;
  logger: Logger;
  limits?: Partial<FlowHubLimits>;
}

const message = (event: string, payload: unknown) => `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;

/**
 * The flow page's live stream: ONE poller of the log and the snapshot, shared by every viewer, started
 * with the first and stopped with the last, so watching the pipeline does not slow it down however many
 * watch. Reads the log a page at a time after the last seq it saw, at a modest rate; viewers get what it
 * read, serialized once. A viewer that stops reading is dropped rather than buffered without end.
 */
export class FlowHub {
  private readonly limits: FlowHubLimits;
  private readonly viewers = new Set<ServerResponse>();
  private readonly seats: StreamSeats;
  private recent: FlowEvent[] = [];
  private lastSeq: number | null = null;
  private lastSnapshot: FlowSnapshot | null = null;
  /** Each start gets a number; loops of an earlier start end themselves. */
  private generation = 0;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Reads of the log since the process started: one poller means one read per tick, whatever the viewers. */
  logReads = 0;

  constructor(private readonly deps: FlowHubDeps) {
    this.limits = { ...DEFAULT_FLOW_HUB_LIMITS, ...deps.limits };
    this.seats = new StreamSeats(this.limits.maxViewers, this.limits.maxPerClient);
    deps.lifecycle.onDrain(() => this.close());
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  get isPolling(): boolean {
    return this.heartbeat !== null;
  }

  /** The newest seq the poller has read, while it runs. */
  get knownLastSeq(): number | null {
    return this.isPolling ? this.lastSeq : null;
  }

  /** Opens a server-sent event stream on `res` for `client`; false when all places, or all of its share, are taken (the caller answers 503). */
  open(res: ServerResponse, client: string): boolean {
    if (this.deps.lifecycle.isDraining || this.seats.take(client) !== 'taken') return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Tells nginx-style proxies not to hold the stream back.
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    if (this.recent.length > 0) res.write(message('events', { events: this.recent, recent: true } satisfies EventsMessage));
    if (this.lastSnapshot) res.write(message('snapshot', this.lastSnapshot));
    this.viewers.add(res);
    res.on('close', () => {
      this.seats.give(client);
      this.leave(res);
    });
    if (this.viewers.size === 1) this.start();
    return true;
  }

  /** Ends every stream and the poller (the server is shutting down). */
  close(): void {
    for (const viewer of this.viewers) viewer.end();
    this.viewers.clear();
    this.stop();
  }

  private leave(res: ServerResponse): void {
    if (!this.viewers.delete(res)) return;
    if (this.viewers.size === 0) this.stop();
  }

  private start(): void {
    this.generation += 1;
    // Each run starts at the log's end again: what happened while nobody watched is not replayed.
    this.lastSeq = null;
    this.recent = [];
    const generation = this.generation;
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), this.limits.heartbeatMs);
    this.heartbeat.unref();
    void this.pollLog(generation);
    void this.pollSnapshot(generation);
  }

  private stop(): void {
    this.generation += 1;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private later(work: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, ms);
    // Never what keeps a process alive: the server does that while it listens.
    timer.unref();
    this.timers.add(timer);
  }

  private async pollLog(generation: number): Promise<void> {
    if (generation !== this.generation) return;
    let delay = this.limits.pollMs;
    try {
      let backfill = false;
      if (this.lastSeq === null) {
        const end = await this.deps.bus.lastSeq();
        if (generation !== this.generation) return;
        this.lastSeq = Math.max(0, end - Math.min(this.limits.history, this.limits.pageSize));
        backfill = true;
      }
      const from = this.lastSeq;
      this.logReads += 1;
      const events = await this.deps.bus.readAfter(from, this.limits.pageSize);
      // Stopped meanwhile, or jumped ahead: this page is no longer wanted.
      if (generation !== this.generation || this.lastSeq !== from) return;
      if (events.length > 0) {
        this.lastSeq = events[events.length - 1]!.seq;
        const sent = events.map(streamable);
        this.recent = [...this.recent, ...sent].slice(-this.limits.history);
        this.broadcast(message('events', (backfill ? { events: sent, recent: true } : { events: sent }) satisfies EventsMessage));
        if (events.length >= this.limits.pageSize) delay = this.limits.catchUpMs;
      }
    } catch (error) {
      // The bus is down or slow: the snapshot says so; the poller waits longer and tries again.
      delay = Math.max(this.limits.pollMs, 2_000);
      this.deps.logger.debug({ reason: describeHttpFailure(error) }, 'flow stream cannot read the log');
    } finally {
      if (generation === this.generation) this.later(() => void this.pollLog(generation), delay);
    }
  }

  private async pollSnapshot(generation: number): Promise<void> {
    if (generation !== this.generation) return;
    try {
      const snapshot = await this.deps.snapshots.latest();
      if (generation !== this.generation) return;
      this.lastSnapshot = snapshot;
      this.broadcast(message('snapshot', snapshot));
      this.skipIfFarBehind(snapshot.lastSeq);
    } catch (error) {
      this.deps.logger.warn({ reason: describeHttpFailure(error) }, 'flow stream cannot build a snapshot');
    } finally {
      if (generation === this.generation) this.later(() => void this.pollSnapshot(generation), this.limits.snapshotMs);
    }
  }

  /** Under a flood the stream shows the newest events, saying how many it left out, rather than trailing ever further. */
  private skipIfFarBehind(end: number | null): void {
    if (typeof end !== 'number' || this.lastSeq === null || !(end - this.lastSeq > this.limits.skipBehind)) return;
    const upTo = end - this.limits.pageSize;
    this.broadcast(message('events', { events: [], skipped: { after: this.lastSeq, upTo } } satisfies EventsMessage));
    this.lastSeq = upTo;
  }

  private broadcast(text: string): void {
    for (const viewer of this.viewers) {
      if (viewer.destroyed) continue;
      if (viewer.writableLength > this.limits.maxBufferedBytes) {
        viewer.destroy();
        continue;
      }
      viewer.write(text);
    }
  }
}
