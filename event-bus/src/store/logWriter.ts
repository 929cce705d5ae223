/**
 * The log's writer, run in a worker thread: SQLite's commit waits for fsync, and waiting here instead of
 * on the main thread lets the bus keep answering and delivering while the disk catches up.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Envelope } from '@blog/common';
import type { AppendResult, DeadLetter, LogRow } from './eventLog';

export interface WriterOptions {
  file: string;
}

export type WriterRequest =
  | { kind: 'append'; groups: Envelope[][] }
  | { kind: 'positions'; entries: [string, number][] }
  | { kind: 'park'; letter: DeadLetter }
  | { kind: 'unpark'; subscriber: string; seq: number }
  | { kind: 'close' };

export type WriterReply =
  | { kind: 'appended'; results: AppendResult[][]; stored: LogRow[]; commitSeconds: number }
  | { kind: 'failed'; message: string }
  | { kind: 'stateFailed'; message: string }
  | { kind: 'closed' };

function openWriter(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const insertEvent = db.prepare<[number, string, string, string, string]>(
    'INSERT INTO events (seq, source, id, type, body) VALUES (?, ?, ?, ?, ?)',
  );
  const findEvent = db.prepare<[string, string], { seq: number }>('SELECT seq FROM events WHERE source = ? AND id = ?');
  const upsertPosition = db.prepare<[string, number]>(
    'INSERT INTO positions (subscriber, seq) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE SET seq = excluded.seq',
  );
  let last = (db.prepare('SELECT MAX(seq) AS last FROM events').get() as { last: number | null }).last ?? 0;

  /** Stores every group in one transaction (one fsync); a repeated (source, id) answers its stored seq. */
  const storeGroups = db.transaction((groups: Envelope[][], stored: LogRow[]): AppendResult[][] => {
    const storedNow = new Map<string, AppendResult>();
    return groups.map((envelopes) =>
      envelopes.map((envelope) => {
        const key = `${envelope.source}\u0000${envelope.id}`;
        const earlier = storedNow.get(key) ?? findEvent.get(envelope.source, envelope.id);
        if (earlier) return { id: envelope.id, seq: earlier.seq, duplicate: true };
        const seq = last + stored.length + 1;
        const body = JSON.stringify({ ...envelope, seq });
        insertEvent.run(seq, envelope.source, envelope.id, envelope.type, body);
        stored.push({ seq, type: envelope.type, body });
        const result = { id: envelope.id, seq, duplicate: false };
        storedNow.set(key, result);
        return result;
      }),
    );
  });

  const savePositions = db.transaction((entries: [string, number][]) => {
    for (const [subscriber, seq] of entries) upsertPosition.run(subscriber, seq);
  });
  const insertDeadLetter = db.prepare<[string, number, string, string, number, string, string]>(
    `INSERT OR REPLACE INTO dead_letters (subscriber, seq, id, type, attempts, last_error, parked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteDeadLetter = db.prepare<[string, number]>('DELETE FROM dead_letters WHERE subscriber = ? AND seq = ?');

  return {
    append(groups: Envelope[][]): WriterReply {
      const stored: LogRow[] = [];
      const started = process.hrtime.bigint();
      try {
        const results = storeGroups(groups, stored);
        last += stored.length;
        return { kind: 'appended', results, stored, commitSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
      } catch (error) {
        return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
      }
    },
    /** Subscriber state (positions, dead letters): a failure is reported, not fatal. */
    saveState(request: Exclude<WriterRequest, { kind: 'append' } | { kind: 'close' }>): WriterReply | null {
      try {
        if (request.kind === 'positions') savePositions(request.entries);
        else if (request.kind === 'park') {
          const { subscriber, seq, id, type, attempts, lastError, parkedAt } = request.letter;
          insertDeadLetter.run(subscriber, seq, id, type, attempts, lastError, parkedAt);
        } else deleteDeadLetter.run(request.subscriber, request.seq);
        return null;
      } catch (error) {
        return { kind: 'stateFailed', message: error instanceof Error ? error.message : String(error) };
      }
    },
    close(): void {
      db.close();
    },
  };
}

if (parentPort) {
  const port = parentPort;
  const writer = openWriter((workerData as WriterOptions).file);
  port.on('message', (request: WriterRequest) => {
    if (request.kind === 'append') port.postMessage(writer.append(request.groups));
    else if (request.kind !== 'close') {
      const reply = writer.saveState(request);
      if (reply) port.postMessage(reply);
    } else {
      writer.close();
      port.postMessage({ kind: 'closed' } satisfies WriterReply);
      port.close();
    }
  });
}
