/**
 * The log's own thread, the only one that opens its database: SQLite's commit waits for fsync, and
 * waiting here instead of on the main thread lets the bus keep answering and delivering while the disk
 * catches up. Requests are handled one at a time, in the order they were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogDatabase } from './database';
import { packRows, transferablesOf } from '../eventLog';
import { asDamage } from './damage';
import { failureOf, type OpenAnswer, type ThreadReply, type ThreadRequest, type ThreadStart } from './protocol';

function handle(db: LogDatabase, request: ThreadRequest): ThreadReply | null {
  switch (request.kind) {
    case 'append': {
      const started = process.hrtime.bigint();
      try {
        const { results, stored } = db.append(request.groups);
        const commitSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        return { kind: 'appended', results, stored: packRows(stored), commitSeconds };
      } catch (error) {
        return { kind: 'appendFailed', ...failureOf(asDamage(error)) };
      }
    }
    case 'read':
    case 'readOne':
      try {
        const rows = request.kind === 'read' ? db.readAfter(request.after, request.limit) : db.readOne(request.seq);
        return { kind: 'rows', id: request.id, rows: packRows(rows) };
      } catch (error) {
        return { kind: 'readFailed', id: request.id, ...failureOf(asDamage(error)) };
      }
    case 'positions':
    case 'park':
    case 'unpark':
      // Subscriber state: a failure is reported, not fatal; success needs no answer.
      try {
        db.saveState(request);
        return null;
      } catch (error) {
        return { kind: 'stateFailed', message: failureOf(error).message };
      }
    case 'close':
      db.close();
      return { kind: 'closed' };
    default: {
      const unknown: never = request;
      throw new Error(`unknown request ${JSON.stringify(unknown)}`);
    }
  }
}

function transferables(reply: ThreadReply): ArrayBuffer[] {
  if (reply.kind === 'rows') return transferablesOf(reply.rows);
  if (reply.kind === 'appended') return transferablesOf(reply.stored);
  return [];
}

/** Answers the opening on its own port and wakes the main thread, which waits for it (see threadLink.ts). */
function answerOpening({ signal, openPort }: ThreadStart, answer: OpenAnswer): void {
  openPort.postMessage(answer);
  openPort.close();
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

async function run(port: NonNullable<typeof parentPort>, start: ThreadStart): Promise<void> {
  let db: LogDatabase;
  try {
    // Loaded here, not at the top, so that even a Node without node:sqlite is answered instead of leaving
    // the main thread waiting for an answer that never comes.
    const { openLogDatabase } = await import('./database');
    db = openLogDatabase(start.file);
    answerOpening(start, { kind: 'opened', state: db.openedState() });
  } catch (error) {
    answerOpening(start, { kind: 'openFailed', ...failureOf(error) });
    return;
  }
  port.on('message', (request: ThreadRequest) => {
    const reply = handle(db, request);
    if (reply) port.postMessage(reply, transferables(reply));
    if (request.kind === 'close') port.close();
  });
}

if (parentPort) void run(parentPort, workerData as ThreadStart);
