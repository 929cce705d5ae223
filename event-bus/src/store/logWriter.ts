/**
 * The log's writer, run in a worker thread: SQLite's commit waits for fsync, and waiting here instead of
 * on the main thread lets the bus keep answering and delivering while the disk catches up.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Envelope } from '@blog/common';
import type { AppendResult, LogRow } from './eventLog';

export interface WriterOptions {
  file: string;
}

export type WriterRequest =
  | { kind: 'append'; groups: Envelope[][] }
  | { kind: 'positions'; entries: [string, number][] }
  | { kind: 'close' };

export type WriterReply =
  | { kind: 'appended'; results: AppendResult[][]; stored: LogRow[] }
  | { kind: 'failed'; message: string }
  | { kind: 'positionsFailed'; message: string }
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

  return {
    append(groups: Envelope[][]): WriterReply {
      const stored: LogRow[] = [];
      try {
        const results = storeGroups(groups, stored);
        last += stored.length;
        return { kind: 'appended', results, stored };
      } catch (error) {
        return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
      }
    },
    savePositions(entries: [string, number][]): WriterReply | null {
      try {
        savePositions(entries);
        return null;
      } catch (error) {
        return { kind: 'positionsFailed', message: error instanceof Error ? error.message : String(error) };
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
    else if (request.kind === 'positions') {
      const reply = writer.savePositions(request.entries);
      if (reply) port.postMessage(reply);
    } else {
      writer.close();
      port.postMessage({ kind: 'closed' } satisfies WriterReply);
      port.close();
    }
  });
}
