import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Envelope } from '@blog/common';
import type { AppendResult, DeadLetter, EventLog, LogRow } from './eventLog';
import type { WriterOptions, WriterReply, WriterRequest } from './logWriter';

interface PendingAppend {
  envelopes: Envelope[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/** The newest events are also kept in memory, so delivery loops that keep up never query the database. */
const RECENT_EVENTS = 5000;

/** Appends that arrive while a commit is under way are committed together, up to about this many events. */
const MAX_GROUP_EVENTS = 2000;

/** Compiled, the writer is a sibling .js file; from TypeScript sources (dev, jest) it is loaded through ts-node. */
function writerEntry(): { file: string; execArgv: string[]; env: NodeJS.ProcessEnv } {
  if (__filename.endsWith('.js')) return { file: path.join(__dirname, 'logWriter.js'), execArgv: [], env: process.env };
  return {
    file: path.join(__dirname, 'logWriter.ts'),
    execArgv: ['--require', 'ts-node/register/transpile-only'],
    env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', '..', 'tsconfig.json'), TS_NODE_SWC: 'true' },
  };
}

const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

/**
 * Bytes at the end of the write-ahead log that do not make a whole frame: a write the process died in
 * the middle of. SQLite ignores them on open (with any transaction that has no commit frame), so
 * nothing acknowledged is lost; this only lets the bus say that it happened.
 */
export function tornWalBytes(dbFile: string): number {
  let wal: Buffer;
  try {
    wal = fs.readFileSync(`${dbFile}-wal`);
  } catch {
    return 0;
  }
  if (wal.length === 0) return 0;
  if (wal.length < WAL_HEADER_BYTES) return wal.length;
  const pageSize = wal.readUInt32BE(8);
  if (pageSize === 0) return 0;
  return (wal.length - WAL_HEADER_BYTES) % (WAL_FRAME_HEADER_BYTES + pageSize);
}

/**
 * The log in SQLite (WAL, synchronous=FULL): a commit is on disk before an append resolves, the unique
 * index on (source, id) deduplicates without holding ids in memory, and a torn write is rolled back by
 * SQLite's own recovery on open. Writes go through one worker thread (see logWriter.ts), one commit at a
 * time; everything queued meanwhile becomes the next commit. Reads use this thread's own connection.
 */
export class SqliteEventLog implements EventLog {
  private readonly db: Database.Database;
  private readonly file: string;
  private readonly selectAfter: Database.Statement<[number, number], LogRow>;
  private readonly selectOne: Database.Statement<[number], LogRow>;
  private readonly listeners = new Set<() => void>();
  private writer: Worker | null = null;
  private pending: PendingAppend[] = [];
  private inFlight: PendingAppend[] | null = null;
  private stateError: ((message: string) => void) | null = null;
  private commitListener: ((events: number, seconds: number) => void) | null = null;
  /** The last stored rows, consecutive by seq, at most about RECENT_EVENTS. */
  private recent: LogRow[] = [];
  private closing: Promise<void> | null = null;
  private last: number;
  /** Bytes of a torn last write found (and dropped) when the log was opened; 0 normally. */
  readonly droppedTornBytes: number;

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, 'events.db');
    this.droppedTornBytes = tornWalBytes(this.file);
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (source, id)
      );
      CREATE TABLE IF NOT EXISTS positions (
        subscriber TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS dead_letters (
        subscriber TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        parked_at TEXT NOT NULL,
        PRIMARY KEY (subscriber, seq)
      );
    `);
    this.selectOne = this.db.prepare('SELECT seq, type, body FROM events WHERE seq = ?');
    this.selectAfter = this.db.prepare('SELECT seq, type, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    const row = this.db.prepare('SELECT MAX(seq) AS last FROM events').get() as { last: number | null };
    this.last = row.last ?? 0;
  }

  get lastSeq(): number {
    return this.last;
  }

  append(envelopes: Envelope[]): Promise<AppendResult[]> {
    if (this.closing) return Promise.reject(new Error('event log is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, resolve, reject });
      this.commitNext();
    });
  }

  /** Calls `listener` after each commit with the events it stored and how long it took. */
  onCommit(listener: (events: number, seconds: number) => void): void {
    this.commitListener = listener;
  }

  /** Calls `onError` with the reason whenever saving positions or dead letters fails. */
  onStateError(onError: (message: string) => void): void {
    this.stateError = onError;
  }

  private startWriter(): Worker {
    const { file, execArgv, env } = writerEntry();
    const worker = new Worker(file, { workerData: { file: this.file } satisfies WriterOptions, execArgv, env });
    worker.on('message', (reply: WriterReply) => this.onReply(reply));
    worker.on('error', (error) => this.onWriterGone(error));
    worker.on('exit', () => this.onWriterGone(new Error('the log writer stopped')));
    return worker;
  }

  private send(request: WriterRequest): void {
    this.writer ??= this.startWriter();
    this.writer.postMessage(request);
  }

  private commitNext(): void {
    if (this.inFlight || this.pending.length === 0) return;
    const group = this.takeGroup();
    this.inFlight = group;
    try {
      this.send({ kind: 'append', groups: group.map((append) => append.envelopes) });
    } catch (error) {
      // The hand-off itself failed (data the worker cannot be sent): fail this group, keep the log going.
      this.inFlight = null;
      for (const append of group) append.reject(error);
      this.commitNext();
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

  private onReply(reply: WriterReply): void {
    if (reply.kind === 'stateFailed') {
      this.stateError?.(reply.message);
      return;
    }
    if (reply.kind === 'closed') return;
    const group = this.inFlight ?? [];
    this.inFlight = null;
    if (reply.kind === 'failed') {
      const error = new Error(reply.message);
      for (const append of group) append.reject(error);
    } else {
      this.remember(reply.stored);
      this.commitListener?.(reply.stored.length, reply.commitSeconds);
      group.forEach((append, index) => append.resolve(reply.results[index]!));
      if (reply.stored.length > 0) for (const listener of this.listeners) listener();
    }
    this.commitNext();
  }

  /** A crashed writer fails every queued append (nothing acknowledged); the next append starts a new one. */
  private onWriterGone(error: Error): void {
    if (!this.writer) return;
    this.writer = null;
    const failed = [...(this.inFlight ?? []), ...this.pending.splice(0)];
    this.inFlight = null;
    for (const append of failed) append.reject(error);
  }

  private remember(rows: LogRow[]): void {
    if (rows.length === 0) return;
    this.last = rows[rows.length - 1]!.seq;
    this.recent.push(...rows);
    if (this.recent.length > RECENT_EVENTS * 2) this.recent = this.recent.slice(-RECENT_EVENTS);
  }

  readAfter(after: number, limit: number): LogRow[] {
    const oldest = this.recent[0]?.seq;
    if (oldest !== undefined && after >= oldest - 1) {
      const start = after - oldest + 1;
      return this.recent.slice(start, start + limit);
    }
    return this.selectAfter.all(after, limit);
  }

  readOne(seq: number): LogRow | undefined {
    return this.selectOne.get(seq);
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  loadPositions(): Map<string, number> {
    const rows = this.db.prepare('SELECT subscriber, seq FROM positions').all() as { subscriber: string; seq: number }[];
    return new Map(rows.map((row) => [row.subscriber, row.seq]));
  }

  loadDeadLetters(): DeadLetter[] {
    return this.db
      .prepare(
        `SELECT subscriber, seq, id, type, attempts, last_error AS lastError, parked_at AS parkedAt
         FROM dead_letters ORDER BY subscriber, seq`,
      )
      .all() as DeadLetter[];
  }

  park(letter: DeadLetter): void {
    if (!this.closing) this.send({ kind: 'park', letter });
  }

  unpark(subscriber: string, seq: number): void {
    if (!this.closing) this.send({ kind: 'unpark', subscriber, seq });
  }

  savePositions(positions: Map<string, number>): void {
    if (positions.size === 0 || this.closing) return;
    this.send({ kind: 'positions', entries: [...positions] });
  }

  /** Commits whatever is still queued, then closes the writer and the database. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    while (this.inFlight || this.pending.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.commitNext();
    }
    const writer = this.writer;
    if (writer) {
      const closed = new Promise<void>((resolve) => {
        writer.on('message', (reply: WriterReply) => reply.kind === 'closed' && resolve());
        writer.once('exit', () => resolve());
      });
      writer.postMessage({ kind: 'close' } satisfies WriterRequest);
      await closed;
      this.writer = null;
      await writer.terminate();
    }
    this.db.close();
  }
}
