/** The messages between the SQLite store (main thread) and its database thread. */
import type { MessagePort } from 'node:worker_threads';
import type { Envelope } from '@blog/contracts';
import type { AppendResult, PackedRows } from '../eventLog';
import type { DeadLetter } from '../subscriberState';
import { LogDamagedError, type LogDamage } from './damage';
import { sqliteCodeOf } from './sqliteCodes';

/** What the thread is started with: the database file, and the channel it answers its opening on. */
export interface ThreadStart {
  file: string;
  /** Set to 1 (and notified) once the opening answer is on `openPort`: the main thread waits on it. */
  signal: Int32Array;
  openPort: MessagePort;
}

/** What the log holds when it is opened. */
export interface OpenedState {
  lastSeq: number;
  positions: [string, number][];
  deadLetters: DeadLetter[];
}

/** Why an operation failed, as it crosses threads: the message, SQLite's code (by name), and the damage if that is what it was. */
export interface Failure {
  message: string;
  code?: string;
  damage?: LogDamage;
}

export type OpenAnswer = { kind: 'opened'; state: OpenedState } | ({ kind: 'openFailed' } & Failure);

export type ThreadRequest =
  | { kind: 'append'; groups: Envelope[][] }
  | { kind: 'read'; id: number; after: number; limit: number }
  | { kind: 'readOne'; id: number; seq: number }
  | { kind: 'positions'; entries: [string, number][] }
  | { kind: 'park'; letter: DeadLetter }
  | { kind: 'unpark'; subscriber: string; seq: number }
  | { kind: 'close' };

export type StateRequest = Extract<ThreadRequest, { kind: 'positions' | 'park' | 'unpark' }>;

export type ThreadReply =
  | { kind: 'appended'; results: AppendResult[][]; stored: PackedRows; commitSeconds: number }
  | ({ kind: 'appendFailed' } & Failure)
  | { kind: 'rows'; id: number; rows: PackedRows }
  | ({ kind: 'readFailed'; id: number } & Failure)
  | { kind: 'stateFailed'; message: string }
  | { kind: 'closed' };

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A thrown error as a Failure: structured clone would drop its class and its extra fields. */
export function failureOf(error: unknown): Failure {
  const code = sqliteCodeOf(error);
  const damage = (error as { damage?: LogDamage } | null)?.damage;
  return { message: messageOf(error), ...(code ? { code } : {}), ...(damage ? { damage } : {}) };
}

/** A Failure back as an error: a LogDamagedError again when it was one. */
export function errorOf(failure: Failure): Error {
  if (failure.damage) return new LogDamagedError(failure.damage);
  return Object.assign(new Error(failure.message), failure.code ? { code: failure.code } : {});
}
