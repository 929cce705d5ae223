import fs from 'node:fs';
import path from 'node:path';

/** Beside the database, not in it: damage to the database or its write-ahead log must not take it too. */
export const HIGH_WATER_FILE = 'acknowledged-seq';

/** One fixed-size record rewritten in place, so a rewrite never changes the file's length. */
const RECORD_BYTES = 24;

export type HighWaterReading = { kind: 'absent' } | { kind: 'unreadable'; text: string } | { kind: 'at'; seq: number };

export const highWaterPath = (dataDir: string): string => path.join(dataDir, HIGH_WATER_FILE);

/** The highest seq the bus has ever acknowledged, as last recorded in `dataDir`. */
export function readHighWater(dataDir: string): HighWaterReading {
  let text: string;
  try {
    text = fs.readFileSync(highWaterPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  const match = /^(\d{1,15}) *\n$/.exec(text);
  return match ? { kind: 'at', seq: Number(match[1]) } : { kind: 'unreadable', text: text.slice(0, 40) };
}

/**
 * Records, after every commit, the highest seq acknowledged so far. One small write at offset 0 per
 * commit and no fsync of its own: it survives the process being killed and any damage to the database
 * files; only a machine crash in the instant after a commit can leave it one commit behind, which
 * weakens the check at start (see logCheck.ts) but never makes it report a loss that did not happen.
 */
export class HighWaterMark {
  private readonly fd: number;
  private recorded: number;

  constructor(dataDir: string, seq: number) {
    this.fd = fs.openSync(highWaterPath(dataDir), 'w');
    this.recorded = -1;
    this.record(seq);
    fs.fsyncSync(this.fd);
  }

  record(seq: number): void {
    if (seq <= this.recorded) return;
    const record = Buffer.from(`${seq}`.padEnd(RECORD_BYTES - 1, ' ') + '\n');
    fs.writeSync(this.fd, record, 0, record.length, 0);
    this.recorded = seq;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
