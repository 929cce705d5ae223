import { useCallback, useEffect, useRef, useState } from 'react';
import { LiveBadge } from '../components/LiveBadge';
import { BreakIt } from './components/BreakIt';
import { DeadLetters } from './components/DeadLetters';
import { EventDetail } from './components/EventDetail';
import { EventLog } from './components/EventLog';
import { FlowDiagram, OTHER_COLOUR, TYPE_COLOURS } from './components/FlowDiagram';
import { SubscribersPanel } from './components/SubscribersPanel';
import { TracePanel } from './components/TracePanel';
import { serviceLabel, statusOf, type FlowEvent, type FlowSnapshot } from './flowModel';
import { useFlow, type FlowDeps } from './useFlow';
import { useMediaQuery } from './useMediaQuery';

export interface FlowPageProps {
  deps: FlowDeps;
  /** Overrides for tests; the browser's media queries otherwise. */
  narrow?: boolean;
  reducedMotion?: boolean;
}

/** "moderation is now stopped": one sentence per change of a service's state, for screen readers. */
function useStateAnnouncements(snapshot: FlowSnapshot | null): string {
  const previous = useRef(new Map<string, string>());
  const [said, setSaid] = useState('');
  useEffect(() => {
    if (!snapshot) return;
    const changes: string[] = [];
    for (const health of snapshot.services) {
      const process = snapshot.supervisor?.processes.find((candidate) => candidate.name === health.name);
      const { label } = statusOf(health, process);
      const before = previous.current.get(health.name);
      if (before !== undefined && before !== label) changes.push(`${serviceLabel(health.name)} is now ${label}`);
      previous.current.set(health.name, label);
    }
    if (changes.length > 0) setSaid(`${changes.join('; ')}.`);
  }, [snapshot]);
  return said;
}

function Legend() {
  return (
    <ul className="legend" aria-label="Dot colours">
      {Object.entries(TYPE_COLOURS).map(([type, colour]) => (
        <li key={type}>
          <span className="legend-dot" style={{ background: colour }} aria-hidden="true" />
          {type}
        </li>
      ))}
      <li>
        <span className="legend-dot" style={{ background: OTHER_COLOUR }} aria-hidden="true" />
        other types
      </li>
    </ul>
  );
}

/** The flow page: the services and the bus live, the log, traces, subscribers, dead letters, and "break it". */
export function FlowPage({ deps, narrow, reducedMotion }: FlowPageProps) {
  const flow = useFlow(deps);
  const { snapshot, events } = flow;
  const narrowQuery = useMediaQuery('(max-width: 620px)');
  const reducedQuery = useMediaQuery('(prefers-reduced-motion: reduce)');
  const [selected, setSelected] = useState<FlowEvent | null>(null);
  const [typeFilter, setTypeFilter] = useState('');
  const [traceQuery, setTraceQuery] = useState('');
  const trigger = useRef<HTMLElement | null>(null);
  const traceSection = useRef<HTMLElement>(null);
  const announcement = useStateAnnouncements(snapshot);

  const open = useCallback((event: FlowEvent, from: HTMLElement) => {
    trigger.current = from;
    setSelected(event);
  }, []);
  const close = useCallback(() => {
    setSelected(null);
    trigger.current?.focus();
  }, []);
  const trace = useCallback((query: string) => {
    setTraceQuery(query);
    traceSection.current?.querySelector('input')?.focus();
  }, []);
  const refresh = useCallback(() => void flow.refresh().catch(() => undefined), [flow]);
  const loadWhole = useCallback(async (seq: number) => (await deps.api.events(seq - 1, 1)).find((event) => event.seq === seq) ?? null, [deps.api]);

  const problems = snapshot?.problems ?? [];
  return (
    <div className="page page-flow">
      <header className="masthead">
        <div>
          <p className="crumb">
            <a href="/">← Back to the blog</a>
          </p>
          <h1 className="masthead-title">Watch the events flow</h1>
          <p className="masthead-tagline">
            Every change is an event in the bus’s log, delivered to each service that wants it.{' '}
            {snapshot ? (
              <span data-testid="flow-mode">
                {snapshot.mode === 'local' ? 'Local run' : 'Cluster'}, {snapshot.engine === 'nats' ? 'NATS JetStream engine' : snapshot.engine === 'embedded' ? 'embedded engine' : 'engine not known yet'}.
              </span>
            ) : null}
          </p>
        </div>
        <LiveBadge mode={flow.live} />
      </header>

      <main className="flow-grid">
        <section className="card flow-diagram-card" aria-labelledby="diagram-title">
          <h2 id="diagram-title" className="section-title">
            Services and the bus
          </h2>
          <FlowDiagram snapshot={snapshot} subscribeArrivals={flow.subscribeArrivals} narrow={narrow} narrowFallback={narrowQuery} reducedMotion={reducedMotion ?? reducedQuery} />
          <Legend />
          <p className="hint">
            A dot is one event: it goes from its publisher to the bus, waits there until the bus has delivered it to a subscriber, then goes on to it.
          </p>
        </section>

        <section className="card break-it-card" aria-labelledby="break-title">
          <h2 id="break-title" className="section-title">
            Break it
          </h2>
          <BreakIt snapshot={snapshot} api={deps.api} onChanged={refresh} />
        </section>

        <section className="card log-card" aria-labelledby="log-title">
          <h2 id="log-title" className="section-title">
            The log
          </h2>
          <EventLog events={events} selectedSeq={selected?.seq ?? null} onOpen={open} typeFilter={typeFilter} onTypeFilter={setTypeFilter} skipped={flow.skipped} />
        </section>

        <section className="card detail-card" aria-label="Event">
          <EventDetail event={selected} onClose={close} onTrace={trace} loadWhole={loadWhole} />
        </section>

        <section className="card trace-card" ref={traceSection} aria-label="Trace">
          <TracePanel events={events} writes={snapshot?.writes ?? []} query={traceQuery} onQuery={setTraceQuery} />
        </section>

        <section className="card subscribers-card" aria-labelledby="subscribers-title">
          <h2 id="subscribers-title" className="section-title">
            Subscribers
          </h2>
          <SubscribersPanel snapshot={snapshot} />
        </section>

        <section className="card dead-card" aria-labelledby="dead-title">
          <h2 id="dead-title" className="section-title">
            Dead letters
          </h2>
          <DeadLetters snapshot={snapshot} api={deps.api} onRetried={refresh} />
        </section>
      </main>

      <p className="visually-hidden" aria-live="polite" data-testid="announcer">
        {announcement}
      </p>
      <div className="banner-slot" aria-live="polite">
        {problems.length > 0 ? (
          <div className="banner banner-load" role="status" data-testid="flow-problems">
            <p className="banner-message">{problems.join(' ')}</p>
          </div>
        ) : null}
      </div>
    </div>
  );
}
