import type { ServerResponse } from 'node:http';
import { StreamSeats } from '@blog/service-kit';

export interface LiveReaderLimits {
  /** Most `/updates` streams open at once; one more is answered 503. */
  maxReaders: number;
  /** Most of them one client (address) may hold, so it cannot take them all. */
  maxPerClient: number;
  /** Bytes a reader may leave unread before it is dropped (it reconnects and reloads the view). */
  maxBufferedBytes: number;
}

/** Keeps 500 readers that never read from costing every other request: few streams, none far behind. */
export const DEFAULT_LIVE_READER_LIMITS: LiveReaderLimits = { maxReaders: 200, maxPerClient: 50, maxBufferedBytes: 256 * 1024 };

/** The open `/updates` streams: how many there are, and a write that drops a reader that fell behind. */
export class LiveReaders {
  private readonly seats: StreamSeats;

  constructor(private readonly limits: LiveReaderLimits = DEFAULT_LIVE_READER_LIMITS) {
    this.seats = new StreamSeats(limits.maxReaders, limits.maxPerClient);
  }

  /** Takes a place for a new stream from `client`; false when all are taken, or all of its share. */
  admit(client: string): boolean {
    return this.seats.take(client) === 'taken';
  }

  leave(client: string): void {
    this.seats.give(client);
  }

  get count(): number {
    return this.seats.count;
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
