import type { LogRow } from '../eventLog';
import { openLogDatabase, type LogDatabase } from './database';
import { unpackRows } from './packedRows';
import { errorOf, failureOf, type OpenedState, type ThreadReply, type ThreadRequest } from './protocol';
import { handle } from './thread';

/**
 * The database on the main thread, behind the thread link's surface: each request is handled in a later
 * turn of the event loop, in order, so the commit queue groups appends as it does with the thread. For
 * measuring the thread against it (LOG_THREAD=main).
 */
export class MainThreadLink {
  private readonly db: LogDatabase;
  private gone: Error | null = null;
  readonly opened: OpenedState;

  constructor(
    file: string,
    private readonly onReply: (reply: ThreadReply) => void,
  ) {
    try {
      this.db = openLogDatabase(file);
    } catch (error) {
      // As the thread reports it: SQLite's code by name.
      throw errorOf(failureOf(error));
    }
    this.opened = this.db.openedState();
  }

  get alive(): boolean {
    return this.gone === null;
  }

  send(request: ThreadRequest): void {
    if (this.gone) throw this.gone;
    setImmediate(() => {
      const reply = handle(this.db, request);
      if (reply) this.onReply(reply);
    });
  }

  read(request: { kind: 'read'; after: number; limit: number } | { kind: 'readOne'; seq: number }): Promise<LogRow[]> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        const reply = handle(this.db, { ...request, id: 0 });
        if (reply?.kind === 'rows') resolve(unpackRows(reply.rows));
        else if (reply?.kind === 'readFailed') {
          reject(errorOf(reply));
          this.onReply(reply);
        }
      });
    });
  }

  async close(): Promise<void> {
    if (this.gone) return;
    // After what was sent before it, as the thread would.
    await new Promise((resolve) => setImmediate(resolve));
    this.gone = new Error('event log is closed');
    this.db.close();
  }
}
