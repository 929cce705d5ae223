import { randomUUID } from 'node:crypto';
import {
  BusUnavailableError,
  buildEnvelope,
  type BusClient,
  type KnownEvent,
  type PublishReceipt,
  type StoredEvent,
} from '@blog/common';

/**
 * A bus in memory, with the real bus's contract: ids are stored once, reads are ordered by seq. Tests set
 * `reachable = false` to see how a service behaves while the bus is down.
 */
export class MemoryBus implements BusClient {
  readonly events: StoredEvent[] = [];
  reachable = true;

  constructor(readonly source = '/test') {}

  async publish(event: KnownEvent, id: string = randomUUID()): Promise<PublishReceipt> {
    if (!this.reachable) throw new BusUnavailableError('bus unreachable (test)');
    const existing = this.events.find((stored) => stored.id === id);
    if (existing) return { id, seq: existing.seq };
    const seq = this.events.length + 1;
    this.events.push({ ...buildEnvelope(event, this.source, id), seq });
    return { id, seq };
  }

  async readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    if (!this.reachable) throw new BusUnavailableError('bus unreachable (test)');
    return this.events.filter((event) => event.seq > after).slice(0, limit);
  }

  ofType(type: KnownEvent['type']): StoredEvent[] {
    return this.events.filter((event) => event.type === type);
  }
}
