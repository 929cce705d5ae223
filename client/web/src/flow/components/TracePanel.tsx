import { useEffect, useId, useState, type FormEvent } from 'react';
import { formatDuration, formatTime, MAX_HELD_EVENTS, traceOf, type FlowEvent } from '../flowModel';

export interface TracePanelProps {
  events: readonly FlowEvent[];
  /** What is traced: a request id or a comment id (set from here, or from an event's detail). */
  query: string;
  onQuery(query: string): void;
}

/**
 * The chain of events one request caused (the same `requestid`), or one comment went through
 * (CommentCreated, CommentModerated, CommentUpdated with its id), with the time between steps. It
 * stays live: a verdict that arrives later joins the chain.
 */
export function TracePanel({ events, query, onQuery }: TracePanelProps) {
  const inputId = useId();
  const hintId = useId();
  const [text, setText] = useState(query);
  useEffect(() => setText(query), [query]);
  const trace = traceOf(query, events);

  const onSubmit = (submit: FormEvent) => {
    submit.preventDefault();
    onQuery(text.trim());
  };

  return (
    <div className="trace-panel" data-testid="trace">
      <h3 className="panel-title">Trace a request or a comment</h3>
      <form className="trace-form" onSubmit={onSubmit}>
        <label htmlFor={inputId} className="field-label">
          Request id or comment id
        </label>
        <div className="inline-row">
          <input
            id={inputId}
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={text}
            aria-describedby={hintId}
            onChange={(change) => setText(change.target.value)}
          />
          <button type="submit">Trace</button>
        </div>
        <p id={hintId} className="hint">
          Or open an event and choose “Trace”.
        </p>
      </form>
      <div className="trace-result" aria-live="polite">
        {query === '' ? null : trace.steps.length === 0 ? (
          <p className="muted" data-testid="trace-summary">
            No event among the last {MAX_HELD_EVENTS} the page holds has request id or comment id “{query}”.
          </p>
        ) : (
          <>
            <p className="trace-summary" data-testid="trace-summary">
              {trace.steps.length === 1 ? '1 event' : `${trace.steps.length} events`}
              {trace.totalMs !== null ? `, ${formatDuration(trace.totalMs)} from first to last` : ''}
            </p>
            <ol className="trace-steps" aria-label={`Trace of ${query}`}>
              {trace.steps.map(({ event, sincePreviousMs }) => (
                <li key={event.seq} data-testid="trace-step" data-seq={event.seq} data-type={event.type}>
                  {sincePreviousMs !== null ? (
                    <span className="trace-gap" data-testid="trace-gap">
                      +{formatDuration(sincePreviousMs)}
                      <span className="visually-hidden"> after the previous step:</span>
                    </span>
                  ) : (
                    <span className="trace-gap">
                      start<span className="visually-hidden">:</span>
                    </span>
                  )}
                  <span className="trace-type">{event.type}</span>
                  <span className="trace-meta">
                    seq {event.seq} · from {event.source} · {formatTime(event.time)}
                  </span>
                </li>
              ))}
            </ol>
          </>
        )}
      </div>
    </div>
  );
}
