import type { EventsMessage, FlowSnapshot } from '../../../src/flow/wire';
import { streamOrPoll, type EventSourceFactory, type LiveMode } from '../streamOrPoll';

export interface FlowStreamHandlers {
  onEvents(message: EventsMessage): void;
  onSnapshot(snapshot: FlowSnapshot): void;
  onMode(mode: LiveMode): void;
  /** While the stream is down: reads what it would have sent (the snapshot, the events since the last seen). */
  poll(): Promise<void>;
}

export interface FlowStreamOptions {
  eventSource?: EventSourceFactory;
  pollMs?: number;
  reconnectMs?: number;
  maxReconnectMs?: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Keeps the flow page current: the client server's `/flow/api/stream` while it is up, and a poll of the
 * snapshot and the log every `pollMs` while it is not. Returns a function that stops everything.
 */
export function startFlowStream(handlers: FlowStreamHandlers, options: FlowStreamOptions = {}): () => void {
  return streamOrPoll(
    {
      url: '/flow/api/stream',
      // The stream itself opens with the recent events and a snapshot: nothing to poll for then.
      pollOnOpen: false,
      poll: () => handlers.poll(),
      onMode: (mode) => handlers.onMode(mode),
      listeners: {
        events: (data) => {
          if (isRecord(data) && Array.isArray(data.events)) handlers.onEvents(data as unknown as EventsMessage);
        },
        snapshot: (data) => {
          if (isRecord(data) && Array.isArray(data.services)) handlers.onSnapshot(data as unknown as FlowSnapshot);
        },
      },
    },
    { ...options, pollMs: options.pollMs ?? 2_000 },
  );
}
