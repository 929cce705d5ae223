/**
 * The log's tables: the events (one per source and id), each subscriber's position, the parked events,
 * and the seqs a repair recorded as lost. Made when missing, by the bus and by a repair alike.
 */
export const LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (source, id)
  );
  CREATE TABLE IF NOT EXISTS positions (
    subscriber TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS dead_letters (
    subscriber TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    parked_at TEXT NOT NULL,
    PRIMARY KEY (subscriber, seq)
  );
  CREATE TABLE IF NOT EXISTS lost_events (
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (first)
  );
`;
