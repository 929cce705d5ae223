import type { LogDamage } from './sqlite/damage';
import type { EventLog } from './eventLog';
import type { SubscriberState } from './subscriberState';

/** The bus's durable state, opened and closed together. */
export interface BusStorage {
  readonly log: EventLog;
  readonly subscribers: SubscriberState;
  /** Stores what is queued, then closes. */
  close(): Promise<void>;
}

/** What a storage adapter may tell the bus as it works; every hook is optional. */
export interface StorageObserver {
  /** After each commit of appends: how many new events it stored (0 if all were duplicates) and how long it took. */
  committed?(events: number, seconds: number): void;
  /** Saving positions or dead letters failed; not fatal (see SubscriberState). */
  stateNotSaved?(reason: string): void;
  /** On open: the last write before a crash was torn, and this many bytes of it were dropped. */
  tornTail?(droppedBytes: number): void;
  /** A read or a write found the stored log damaged: from now on it must not be served. */
  damaged?(damage: LogDamage): void;
}

/** Opens the storage kept in `dataDir`; throws when it cannot be opened. */
export type OpenStorage = (dataDir: string, observer: StorageObserver) => BusStorage;
