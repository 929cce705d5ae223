import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { LogRow } from '../eventLog';
import { unpackRows } from './packedRows';
import { errorOf, type OpenAnswer, type OpenedState, type ThreadReply, type ThreadRequest, type ThreadStart } from './protocol';

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
