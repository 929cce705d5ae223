import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Envelope } from '@blog/common';
import type { AppendResult, EventLog, LogRow } from './eventLog';

interface PendingAppend {
  envelopes: Envelope[];
  resolve: (results: AppendResult[]) => void;
  reject: (error: unknown) => void;
}

/** The newest events are also kept in memory, so delivery loops that keep up never query the database. */
const RECENT_EVENTS = 5000;

/** Appends that arrive together are committed together: one fsync acknowledges the whole group. */
const MAX_GROUP_EVENTS = 2000;

/**
 * The log in SQLite (WAL, synchronous=FULL): a commit is on disk before it returns, the unique index on
 * (source, id) deduplicates without holding ids in memory, and a torn write is rolled back by SQLite's
 * own recovery on open.
 */
export class SqliteEventLog implements EventLog {
  private readonly db: Database.Database;
  private readonly insertEvent: Database.Statement<[number, string, string, string, string]>;
  private readonly findEvent: Database.Statement<[string, string], { seq: number }>;
  private readonly selectAfter: Database.Statement<[number, number], LogRow>;
  private readonly upsertPosition: Database.Statement<[string, number]>;
  private readonly listeners = new Set<() => void>();
  private pending: PendingAppend[] = [];
  /** The last stored rows, consecutive by seq, at most RECENT_EVENTS. */
  private recent: LogRow[] = [];
  private flushScheduled = false;
  private closed = false;
  private last: number;

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, 'events.db'));
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
    `);
    this.insertEvent = this.db.prepare('INSERT INTO events (seq, source, id, type, body) VALUES (?, ?, ?, ?, ?)');
    this.findEvent = this.db.prepare('SELECT seq FROM events WHERE source = ? AND id = ?');
    this.selectAfter = this.db.prepare('SELECT seq, type, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.upsertPosition = this.db.prepare(
      'INSERT INTO positions (subscriber, seq) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE SET seq = excluded.seq',
    );
    const row = this.db.prepare('SELECT MAX(seq) AS last FROM events').get() as { last: number | null };
    this.last = row.last ?? 0;
  }

  get lastSeq(): number {
    return this.last;
  }

  append(envelopes: Envelope[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event log is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
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

  private flush(): void {
    this.flushScheduled = false;
    const group = this.takeGroup();
    if (this.pending.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (group.length === 0) return;
    const lastBefore = this.last;
    let results: AppendResult[][];
    const stored: LogRow[] = [];
    try {
      results = this.db.transaction(() => this.storeGroup(group, stored))();
    } catch (error) {
      this.last = lastBefore;
      for (const append of group) append.reject(error);
      return;
    }
    this.remember(stored);
    group.forEach((append, index) => append.resolve(results[index]!));
    if (this.last > lastBefore) for (const listener of this.listeners) listener();
  }

  /** Stores the group's new events, adding each stored row to `stored`; answers each append's results. */
  private storeGroup(group: PendingAppend[], stored: LogRow[]): AppendResult[][] {
    const storedNow = new Map<string, AppendResult>();
    return group.map(({ envelopes }) =>
      envelopes.map((envelope) => {
        const key = `${envelope.source}\u0000${envelope.id}`;
        const earlier = storedNow.get(key) ?? this.findStored(envelope);
        if (earlier) return { id: envelope.id, seq: earlier.seq, duplicate: true };
        const seq = this.last + 1;
        const body = JSON.stringify({ ...envelope, seq });
        this.insertEvent.run(seq, envelope.source, envelope.id, envelope.type, body);
        stored.push({ seq, type: envelope.type, body });
        this.last = seq;
        const result = { id: envelope.id, seq, duplicate: false };
        storedNow.set(key, result);
        return result;
      }),
    );
  }

  private findStored(envelope: Envelope): { seq: number } | undefined {
    return this.findEvent.get(envelope.source, envelope.id);
  }

  private remember(rows: LogRow[]): void {
    if (rows.length === 0) return;
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

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  loadPositions(): Map<string, number> {
    const rows = this.db.prepare('SELECT subscriber, seq FROM positions').all() as { subscriber: string; seq: number }[];
    return new Map(rows.map((row) => [row.subscriber, row.seq]));
  }

  savePositions(positions: Map<string, number>): void {
    if (positions.size === 0) return;
    this.db.transaction(() => {
      for (const [subscriber, seq] of positions) this.upsertPosition.run(subscriber, seq);
    })();
  }

  /** Commits whatever is still queued, then closes the database. */
  close(): void {
    if (this.closed) return;
    while (this.pending.length > 0) this.flush();
    this.closed = true;
    this.db.close();
  }
}
