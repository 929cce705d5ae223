import fs from 'node:fs';
import path from 'node:path';
import type { Envelope } from '@blog/contracts';
import { withinPageBytes, unpackRows, RecentEvents, type AppendResult, type EventLog, type LogRow } from '../eventLog';
import type { BusStorage, StorageObserver } from '../storage';
import type { DeadLetter, SubscriberState } from '../subscriberState';
import { CommitQueue, ThreadLink } from './threadLink';
import { errorOf, type StateRequest, type ThreadReply } from './protocol';
import { tornWalBytes } from './tornTail';

/**
 * Enough recent events in memory that delivery loops which keep up never query the database, and no
 * more than 8 MiB of them (5,000 of the blog's events are about 2 MB; large ones are kept fewer).
 */
const RECENT_EVENTS = 5000;
const RECENT_EVENTS_BYTES = 8 * 1024 * 1024;

const letterKey = (subscriber: string, seq: number) => `${subscriber}\u0000${seq}`;

/**
 * The log and the subscribers' state in one SQLite file, `events.db` in the data folder (WAL,
 * synchronous=FULL): a commit is on disk before an append resolves, the unique index on (source, id)
 * deduplicates without holding ids in memory, and a torn write is rolled back by SQLite's own recovery
 * on open. The database is opened once, by its own thread (thread.ts), which does every read and write;
 * this side batches appends into group commits, keeps the newest events in memory, and keeps a copy of
 * the subscribers' state (it is the only writer, so the copy is what the file holds, or will).
 */
export class SqliteStore implements EventLog, SubscriberState {
  private readonly file: string;
  private link: ThreadLink;
  private readonly commits = new CommitQueue((groups) => this.connected().send({ kind: 'append', groups }));
  private readonly recent = new RecentEvents(RECENT_EVENTS, RECENT_EVENTS_BYTES);
  private readonly listeners = new Set<() => void>();
  private readonly positions: Map<string, number>;
  private readonly deadLetters: Map<string, DeadLetter>;
  private last: number;
  private closing: Promise<void> | null = null;

  /** Opens (or creates) the log in `dataDir`; throws, with SQLite's message and code, when it cannot. */
  constructor(
    dataDir: string,
    private readonly observer: StorageObserver = {},
  ) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, 'events.db');
    const droppedTornBytes = tornWalBytes(this.file);
    this.link = this.openLink();
    const { lastSeq, positions, deadLetters } = this.link.opened;
    this.last = lastSeq;
    this.positions = new Map(positions);
    this.deadLetters = new Map(deadLetters.map((letter) => [letterKey(letter.subscriber, letter.seq), letter]));
    if (droppedTornBytes > 0) observer.tornTail?.(droppedTornBytes);
  }

  get lastSeq(): number {
    return this.last;
  }

  append(envelopes: Envelope[]): Promise<AppendResult[]> {
    if (this.closing) return Promise.reject(new Error('event log is closed'));
    return this.commits.add(envelopes);
  }

  readAfter(after: number, limit: number): Promise<LogRow[]> {
    if (after >= this.last) return Promise.resolve([]);
    const cached = this.recent.after(after, limit);
    if (cached) return Promise.resolve(withinPageBytes(cached));
    return this.read({ kind: 'read', after, limit });
  }

  async readOne(seq: number): Promise<LogRow | undefined> {
    return this.recent.one(seq) ?? (await this.read({ kind: 'readOne', seq }))[0];
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  loadPositions(): Map<string, number> {
    return new Map(this.positions);
  }

  savePositions(positions: ReadonlyMap<string, number>): void {
    if (positions.size === 0 || this.closing) return;
    for (const [subscriber, seq] of positions) this.positions.set(subscriber, seq);
    this.sendState({ kind: 'positions', entries: [...positions] });
  }

  loadDeadLetters(): DeadLetter[] {
    return [...this.deadLetters.values()].sort((a, b) =>
      a.subscriber < b.subscriber ? -1 : a.subscriber > b.subscriber ? 1 : a.seq - b.seq,
    );
  }

  park(letter: DeadLetter): void {
    if (this.closing) return;
    this.deadLetters.set(letterKey(letter.subscriber, letter.seq), letter);
    this.sendState({ kind: 'park', letter });
  }

  unpark(subscriber: string, seq: number): void {
    if (this.closing) return;
    this.deadLetters.delete(letterKey(subscriber, seq));
    this.sendState({ kind: 'unpark', subscriber, seq });
  }

  /** Commits whatever is still queued, then closes the database and its thread. */
  close(): Promise<void> {
    this.closing ??= this.commits.drained().then(() => this.link.close());
    return this.closing;
  }

  private openLink(): ThreadLink {
    return new ThreadLink(
      this.file,
      (reply) => this.onReply(reply),
      (error) => this.commits.failAll(error),
    );
  }

  /** The thread, started again if it crashed (its opening tells how far the log got). */
  private connected(): ThreadLink {
    if (!this.link.alive && !this.closing) {
      this.link = this.openLink();
      this.last = this.link.opened.lastSeq;
      this.recent.clear();
    }
    return this.link;
  }

  private read(request: { kind: 'read'; after: number; limit: number } | { kind: 'readOne'; seq: number }): Promise<LogRow[]> {
    try {
      return this.connected().read(request);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private sendState(request: StateRequest): void {
    try {
      this.connected().send(request);
    } catch (error) {
      this.observer.stateNotSaved?.(error instanceof Error ? error.message : String(error));
    }
  }

  private onReply(reply: ThreadReply): void {
    switch (reply.kind) {
      case 'appended': {
        const stored = unpackRows(reply.stored);
        if (stored.length > 0) this.last = stored[stored.length - 1]!.seq;
        this.recent.add(stored);
        this.observer.committed?.(stored.length, reply.commitSeconds);
        this.commits.settled(reply.results);
        if (stored.length > 0) for (const listener of this.listeners) listener();
        return;
      }
      case 'appendFailed':
        if (reply.damage) this.observer.damaged?.(reply.damage);
        this.commits.failed(errorOf(reply));
        return;
      case 'stateFailed':
        this.observer.stateNotSaved?.(reply.message);
        return;
      case 'readFailed':
        if (reply.damage) this.observer.damaged?.(reply.damage);
        return;
      case 'rows':
      case 'closed':
        return;
      default: {
        const unknown: never = reply;
        throw new Error(`unknown reply ${JSON.stringify(unknown)}`);
      }
    }
  }
}

/** The SQLite store as the bus's storage: `createBus` opens this unless told otherwise. */
export function openSqliteStorage(dataDir: string, observer: StorageObserver = {}): BusStorage {
  const store = new SqliteStore(dataDir, observer);
  return { log: store, subscribers: store, close: () => store.close() };
}
