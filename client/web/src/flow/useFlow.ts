import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EventsMessage } from '../../../src/flow/wire';
import type { EventSourceFactory, LiveMode } from '../live';
import type { FlowApi } from './flowApi';
import { startFlowStream } from './flowStream';
import { mergeEvents, type FlowEvent, type FlowSnapshot } from './flowModel';

export interface FlowDeps {
  api: FlowApi;
  /** Unset where the browser has no EventSource: the page then polls. */
  eventSource?: EventSourceFactory;
  pollMs?: number;
}

export type ArrivalListener = (events: FlowEvent[]) => void;

export interface FlowView {
  events: FlowEvent[];
  snapshot: FlowSnapshot | null;
  live: LiveMode;
  /** Events the stream left out under a flood (it shows the newest instead). */
  skipped: number;
  /** New events as they come (not the recent ones sent on connecting): the diagram animates these. */
  subscribeArrivals(listener: ArrivalListener): () => void;
  /** Reads the snapshot now, after an action, instead of waiting for the next one. */
  refresh(): Promise<void>;
}

/** Events read when the page polls and knows nothing yet: the last hundred. */
const FIRST_PAGE = 100;

export function useFlow({ api, eventSource, pollMs }: FlowDeps): FlowView {
  const [events, setEvents] = useState<FlowEvent[]>([]);
  const [snapshot, setSnapshot] = useState<FlowSnapshot | null>(null);
  const [live, setLive] = useState<LiveMode>('connecting');
  const [skipped, setSkipped] = useState(0);
  const listeners = useRef(new Set<ArrivalListener>());
  const lastSeq = useRef<number | null>(null);

  const take = useCallback((message: EventsMessage) => {
    if (message.skipped) {
      const { after, upTo } = message.skipped;
      setSkipped((count) => count + Math.max(0, upTo - after));
    }
    if (message.events.length === 0) return;
    lastSeq.current = Math.max(lastSeq.current ?? 0, message.events[message.events.length - 1]!.seq);
    setEvents((held) => mergeEvents(held, message.events));
    if (!message.recent) for (const listener of listeners.current) listener(message.events);
  }, []);

  const refresh = useCallback(async () => {
    setSnapshot(await api.snapshot());
  }, [api]);

  const poll = useCallback(async () => {
    const next = await api.snapshot();
    setSnapshot(next);
    const first = lastSeq.current === null;
    const after = first ? Math.max(0, (next.lastSeq ?? 0) - FIRST_PAGE) : lastSeq.current!;
    const page = await api.events(after, 200);
    if (first && page.length === 0) lastSeq.current = after;
    take({ events: page, recent: first });
  }, [api, take]);

  useEffect(
    () => startFlowStream({ onEvents: take, onSnapshot: setSnapshot, onMode: setLive, poll }, { eventSource, pollMs }),
    [take, poll, eventSource, pollMs],
  );

  const subscribeArrivals = useCallback((listener: ArrivalListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  return useMemo(
    () => ({ events, snapshot, live, skipped, subscribeArrivals, refresh }),
    [events, snapshot, live, skipped, subscribeArrivals, refresh],
  );
}
