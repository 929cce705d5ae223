/**
 * `@blog/event-bus/store`: the bus's storage for other packages (the bench seeds big logs with it).
 *
 *   const store = new SqliteStore(dataDir);
 *   await store.append(envelopes);          // durable when it resolves
 *   store.savePositions(new Map([[url, store.lastSeq]]));
 *   await store.close();                    // commits what is queued
 */
export { SqliteStore, openSqliteStorage } from './sqlite/sqliteStore';
export type { AppendResult, EventLog, LogRow } from './eventLog';
export type { DeadLetter, SubscriberState } from './subscriberState';
export type { BusStorage, OpenStorage, StorageObserver } from './storage';
