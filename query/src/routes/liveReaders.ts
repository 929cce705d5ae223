import type { ServerResponse } from 'node:http';

export interface LiveReaderLimits {
  /** Most `/updates` streams open at once; one more is answered 503. */
  maxReaders: number;
  /** Bytes a reader may leave unread before it is dropped (it reconnects and reloads the view). */
  maxBufferedBytes: number;
}

/** Keeps 500 readers that never read from costing every other request: few streams, none far behind. */
export const DEFAULT_LIVE_READER_LIMITS: LiveReaderLimits = { maxReaders: 200, maxBufferedBytes: 256 * 1024 };

/** The open `/updates` streams: how many there are, and a write that drops a reader that fell behind. */
export class LiveReaders {
  private open = 0;

  constructor(private readonly limits: LiveReaderLimits = DEFAULT_LIVE_READER_LIMITS) {}

  /** Takes a place for a new stream; false when all are taken. */
  admit(): boolean {
    if (this.open >= this.limits.maxReaders) return false;
    this.open += 1;
    return true;
  }

  leave(): void {
    this.open -= 1;
  }

  get count(): number {
    return this.open;
  }

  /** Writes `text` unless the reader already holds too much unread; such a reader is disconnected. */
  write(res: ServerResponse, text: string): void {
    if (res.destroyed) return;
    if (res.writableLength > this.limits.maxBufferedBytes) {
      res.destroy();
      return;
    }
    res.write(text);
  }
}
