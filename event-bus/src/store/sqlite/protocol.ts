/** The messages between the SQLite store (main thread) and its database thread. */
import type { MessagePort } from 'node:worker_threads';
import type { Envelope } from '@blog/contracts';
import type { AppendResult } from '../eventLog';
import type { DeadLetter } from '../subscriberState';
import type { PackedRows } from './packedRows';

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

export type OpenAnswer = { kind: 'opened'; state: OpenedState } | { kind: 'openFailed'; message: string; code?: string };

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
  | { kind: 'appendFailed'; message: string }
  | { kind: 'rows'; id: number; rows: PackedRows }
  | { kind: 'readFailed'; id: number; message: string }
  | { kind: 'stateFailed'; message: string }
  | { kind: 'closed' };

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
