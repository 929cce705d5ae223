/**
 * The main thread's side of the log's thread: appends wait in one queue for the next group commit,
 * requests go across and their answers come back.
 */
import type { Envelope } from '@blog/contracts';
import { unpackRows, type AppendResult, type LogRow } from '../eventLog';
import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { errorOf, type OpenAnswer, type OpenedState, type ThreadReply, type ThreadRequest, type ThreadStart } from './protocol';

interface PendingAppend {
  envelopes: Envelope[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/** Appends that arrive while a commit is under way are committed together, up to about this many events. */
const MAX_GROUP_EVENTS = 2000;

/**
 * Group commit: one commit at a time; every append queued meanwhile goes into the next one, so many
 * small publishes share one fsync. `commit` hands a group over; `settled` or `failed` answers it.
 */
export class CommitQueue {
  private pending: PendingAppend[] = [];
  private inFlight: PendingAppend[] | null = null;
  private idle: (() => void)[] = [];

  constructor(private readonly commit: (groups: Envelope[][]) => void) {}

  add(envelopes: Envelope[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, resolve, reject });
      this.next();
    });
  }

  /** The commit in flight stored its groups: answers each append with its group's results. */
  settled(results: AppendResult[][]): void {
    const group = this.inFlight ?? [];
    this.inFlight = null;
    group.forEach((append, index) => append.resolve(results[index]!));
    this.next();
  }

  /** The commit in flight stored nothing. */
  failed(error: Error): void {
    const group = this.inFlight ?? [];
    this.inFlight = null;
    for (const append of group) append.reject(error);
    this.next();
  }

  /** Fails the commit in flight and everything queued (nothing of them was acknowledged). */
  failAll(error: Error): void {
    const failed = [...(this.inFlight ?? []), ...this.pending.splice(0)];
    this.inFlight = null;
    for (const append of failed) append.reject(error);
    this.next();
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (!this.inFlight && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private next(): void {
    if (this.inFlight) return;
    if (this.pending.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    const group = this.takeGroup();
    this.inFlight = group;
    try {
      this.commit(group.map((append) => append.envelopes));
    } catch (error) {
      // The hand-off itself failed (data the thread cannot be sent): fail this group, keep the log going.
      this.inFlight = null;
      for (const append of group) append.reject(error);
      this.next();
    }
  }

  /** Takes whole appends, oldest first, up to about MAX_GROUP_EVENTS events (at least one append). */
  private takeGroup(): PendingAppend[] {
    let events = 0;
    let count = 0;
    while (count < this.pending.length && (count === 0 || events + this.pending[count]!.envelopes.length <= MAX_GROUP_EVENTS)) {
      events += this.pending[count]!.envelopes.length;
      count += 1;
    }
    return this.pending.splice(0, count);
  }
}

/** Long enough for a cold start from TypeScript sources on a busy machine; the thread normally answers in well under 0.1 s. */
const OPEN_TIMEOUT_MS = 60_000;

/** Compiled, the thread is a sibling .js file; from TypeScript sources (dev, jest) it is loaded through ts-node. */
function threadEntry(): { file: string; execArgv: string[]; env: NodeJS.ProcessEnv } {
  if (__filename.endsWith('.js')) return { file: path.join(__dirname, 'thread.js'), execArgv: [], env: process.env };
  return {
    file: path.join(__dirname, 'thread.ts'),
    execArgv: ['--require', 'ts-node/register/transpile-only'],
    env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', '..', '..', 'tsconfig.json'), TS_NODE_SWC: 'true' },
  };
}

interface PendingRead {
  resolve: (rows: LogRow[]) => void;
  reject: (error: Error) => void;
}

/**
 * The main thread's end of the database thread. Opening waits for the thread to open the database, so
 * a log that cannot be opened fails at once, with SQLite's own message and code, like a direct open
 * would; that wait happens once, at start. Everything after is asynchronous.
 */
export class ThreadLink {
  private readonly worker: Worker;
  private readonly reads = new Map<number, PendingRead>();
  private nextReadId = 1;
  private gone: Error | null = null;
  private closing = false;
  readonly opened: OpenedState;

  constructor(
    file: string,
    private readonly onReply: (reply: ThreadReply) => void,
    private readonly onGone: (error: Error) => void,
  ) {
    const { file: entry, execArgv, env } = threadEntry();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const start: ThreadStart = { file, signal, openPort: port2 };
    this.worker = new Worker(entry, { workerData: start, transferList: [port2], execArgv, env });
    this.worker.on('message', (reply: ThreadReply) => this.receive(reply));
    this.worker.on('error', (error) => this.lost(error));
    this.worker.on('exit', () => this.lost(new Error(this.closing ? 'event log is closed' : 'the log thread stopped')));
    Atomics.wait(signal, 0, 0, OPEN_TIMEOUT_MS);
    const answer = receiveMessageOnPort(port1)?.message as OpenAnswer | undefined;
    port1.close();
    if (answer?.kind !== 'opened') {
      this.gone = new Error('the log is not open');
      void this.worker.terminate();
      if (!answer) throw new Error(`the log thread did not start within ${OPEN_TIMEOUT_MS / 1000} s`);
      throw errorOf(answer);
    }
    this.opened = answer.state;
  }

  get alive(): boolean {
    return this.gone === null;
  }

  /** Throws if the request cannot be handed over (e.g. data too deeply nested to copy); nothing was sent then. */
  send(request: ThreadRequest): void {
    if (this.gone) throw this.gone;
    this.worker.postMessage(request);
  }

  read(request: { kind: 'read'; after: number; limit: number } | { kind: 'readOne'; seq: number }): Promise<LogRow[]> {
    const id = this.nextReadId++;
    return new Promise((resolve, reject) => {
      this.send({ ...request, id });
      this.reads.set(id, { resolve, reject });
    });
  }

  /** Asks the thread to close the database, and waits until it has and the thread has ended. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.gone) {
      const ended = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.postMessage({ kind: 'close' } satisfies ThreadRequest);
      await ended;
    }
    await this.worker.terminate();
  }

  private receive(reply: ThreadReply): void {
    if (reply.kind === 'rows' || reply.kind === 'readFailed') {
      const read = this.reads.get(reply.id);
      this.reads.delete(reply.id);
      if (reply.kind === 'rows') read?.resolve(unpackRows(reply.rows));
      else {
        read?.reject(errorOf(reply));
        // The store hears of failed reads too: one may be the first sign of damage.
        this.onReply(reply);
      }
      return;
    }
    this.onReply(reply);
  }

  /** A thread that ended fails every read still waiting; the store is told once if it crashed. */
  private lost(error: Error): void {
    if (this.gone) return;
    this.gone = error;
    for (const read of this.reads.values()) read.reject(error);
    this.reads.clear();
    if (!this.closing) this.onGone(error);
  }
}
