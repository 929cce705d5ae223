import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { commentIdOf, type FlowEvent } from '../flowModel';

export interface EventDetailProps {
  event: FlowEvent | null;
  onClose(): void;
  onTrace(query: string): void;
  /** Reads an event whole (one the stream sent without its data, being too large). */
  loadWhole(seq: number): Promise<FlowEvent | null>;
}

/** One event as the bus stores it: the whole CloudEvent as JSON, and the traces it can start. */
export function EventDetail({ event, onClose, onTrace, loadWhole }: EventDetailProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  const [whole, setWhole] = useState<FlowEvent | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    setWhole(null);
    setLoadError(null);
    if (event) heading.current?.focus();
  }, [event]);

  const onKeyDown = (key: KeyboardEvent) => {
    if (key.key === 'Escape') onClose();
  };

  if (!event) {
    return (
      <div className="event-detail is-empty" data-testid="event-detail">
        <h3 className="panel-title">Event</h3>
        <p className="muted">Choose an event in the log (its seq) to see it whole, as the bus stores it.</p>
      </div>
    );
  }
  const shown = whole ?? event;
  const commentId = commentIdOf(shown);
  return (
    <div className="event-detail" data-testid="event-detail" data-seq={event.seq} onKeyDown={onKeyDown}>
      <div className="detail-head">
        <h3 className="panel-title" ref={heading} tabIndex={-1}>
          Event {event.seq}: {event.type}
        </h3>
        <button type="button" className="button-quiet" onClick={onClose}>
          Close
        </button>
      </div>
      {shown.truncated ? (
        <p className="muted">
          Too large to stream whole; its data is left out here.{' '}
          <button
            type="button"
            className="button-link"
            onClick={() => {
              loadWhole(event.seq).then(
                (loaded) => (loaded ? setWhole(loaded) : setLoadError('The bus no longer has it.')),
                (error: unknown) => setLoadError(error instanceof Error ? error.message : 'Could not load it.'),
              );
            }}
          >
            Load it whole
          </button>
          {loadError ? <span role="alert"> {loadError}</span> : null}
        </p>
      ) : null}
      <pre className="event-json" tabIndex={0} aria-label={`Event ${event.seq} as JSON`} data-testid="event-json">
        {JSON.stringify(shown, null, 2)}
      </pre>
      <div className="detail-actions">
        {shown.requestid ? (
          <button type="button" className="button-secondary" onClick={() => onTrace(shown.requestid!)}>
            Trace its request
          </button>
        ) : null}
        {commentId ? (
          <button type="button" className="button-secondary" onClick={() => onTrace(commentId)}>
            Trace comment {commentId.length > 12 ? `${commentId.slice(0, 8)}…` : commentId}
          </button>
        ) : null}
      </div>
    </div>
  );
}
