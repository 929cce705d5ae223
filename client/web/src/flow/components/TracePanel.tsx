import { useEffect, useId, useState, type FormEvent } from 'react';
import { formatDuration, formatTime, MAX_HELD_EVENTS, traceOf, type FlowEvent, type WriteAttempt } from '../flowModel';

export interface TracePanelProps {
  events: readonly FlowEvent[];
  /** The latest writes the client server passed on (the snapshot's). */
  writes: readonly WriteAttempt[];
  /** What is traced: a request id or a comment id (set from here, or from an event's detail). */
  query: string;
  onQuery(query: string): void;
}

/**
 * The chain of events one request caused (the same `requestid`), or one comment went through
 * (CommentCreated, CommentModerated, CommentUpdated with its id), with the time between steps; before
 * it, each attempt of the write the client server passed on. It stays live: a verdict that arrives later
 * joins the chain.
 */
/** A write's attempts, each with its answer: a write the page retried through a restart shows them all. */
function Attempts({ attempts }: { attempts: readonly WriteAttempt[] }) {
  return (
    <ol className="trace-attempts" aria-label="Attempts">
      {attempts.map((attempt) => (
        <li key={`${attempt.at}-${attempt.status}-${attempt.ms}`} data-testid="trace-attempt" data-status={attempt.status}>
          <span className="trace-type">
            POST {attempt.path} → {attempt.status === 0 ? 'no answer' : attempt.status}
          </span>
          <span className="trace-meta">
            {attempt.answer} · {attempt.service} · {formatTime(attempt.at)} · {formatDuration(attempt.ms)}
          </span>
        </li>
      ))}
    </ol>
  );
}

export function TracePanel({ events, writes, query, onQuery }: TracePanelProps) {
  const inputId = useId();
  const hintId = useId();
  const [text, setText] = useState(query);
  useEffect(() => setText(query), [query]);
  const trace = traceOf(query, events, writes);

  const onSubmit = (submit: FormEvent) => {
    submit.preventDefault();
    onQuery(text.trim());
  };

  return (
    <div className="trace-panel" data-testid="trace">
      <h3 className="panel-title">Trace a request or a comment</h3>
      <form className="trace-form" onSubmit={onSubmit}>
        <label htmlFor={inputId} className="field-label">
          Request id, Idempotency-Key or comment id
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
        {trace.attempts.length > 0 ? (
          <p className="trace-summary" data-testid="trace-attempts-summary">
            {trace.attempts.length === 1 ? '1 attempt' : `${trace.attempts.length} attempts`} to write it
          </p>
        ) : null}
        {trace.attempts.length > 0 ? <Attempts attempts={trace.attempts} /> : null}
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
