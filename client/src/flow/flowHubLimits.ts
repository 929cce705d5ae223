/** How the flow page's live stream reads the log and how much it lets its viewers hold. */
export interface FlowHubLimits {
  /** Wait between two reads of the log when the last one was not a full page. */
  pollMs: number;
  /** Wait after a full page: the log has more, so the next read comes sooner (still one at a time). */
  catchUpMs: number;
  /** Wait between two snapshots. */
  snapshotMs: number;
  /** Most events one read asks for. */
  pageSize: number;
  /** Recent events kept for a viewer that joins (at most one page). */
  history: number;
  /** Most streams open at once; one more is answered 503. */
  maxViewers: number;
  /** Most of them one client (address) may hold, so it cannot take them all. */
  maxPerClient: number;
  /** Bytes a viewer may leave unread before it is dropped (its page reconnects and starts from the recent events). */
  maxBufferedBytes: number;
  /** When the log's end is this far ahead of the stream, the stream jumps to it instead of reading every page. */
  skipBehind: number;
  /** A comment line every so often, so proxies do not close a quiet stream. */
  heartbeatMs: number;
}

/**
 * A learner follows a few events a second; under a flood (a benchmark: thousands a second) the stream
 * shows at most a page every half second and says how many it left out, so watching costs the system
 * next to nothing. Reading every event fast (a page every 100 ms) cost the pipeline 11% of its
 * throughput at saturation on two cores (npm run bench -- --watch-compare 5; docs/PERFORMANCE.md).
 */
export const DEFAULT_FLOW_HUB_LIMITS: FlowHubLimits = {
  pollMs: 500,
  catchUpMs: 500,
  snapshotMs: 1_000,
  pageSize: 100,
  history: 100,
  maxViewers: 50,
  maxPerClient: 10,
  maxBufferedBytes: 1024 * 1024,
  skipBehind: 1_000,
  heartbeatMs: 15_000,
};
