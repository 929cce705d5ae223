import { memo, useId, useLayoutEffect, useRef, useState } from 'react';
import { formatTime, typesIn, type FlowEvent } from '../flowModel';

/** Rows drawn at once: the newest of the filtered events (the page holds more, for traces). */
export const ROWS_SHOWN = 300;

interface RowProps {
  event: FlowEvent;
  selected: boolean;
  onOpen(event: FlowEvent, trigger: HTMLElement): void;
}

const LogRow = memo(function LogRow({ event, selected, onOpen }: RowProps) {
  return (
    <tr
      data-testid="log-row"
      data-seq={event.seq}
      data-type={event.type}
      className={selected ? 'is-selected' : undefined}
      aria-current={selected ? 'true' : undefined}
      onClick={(click) => {
        const button = (click.currentTarget as HTMLElement).querySelector('button');
        if (button) onOpen(event, button);
      }}
    >
      <td className="col-seq">
        <button type="button" className="seq-button" aria-label={`Open event ${event.seq}, ${event.type}`} onClick={(click) => {
          click.stopPropagation();
          onOpen(event, click.currentTarget);
        }}>
          {event.seq}
        </button>
      </td>
      <td className="col-type">{event.type}</td>
      <td className="col-source">{event.source}</td>
      <td className="col-id" title={event.id}>
        {event.id}
      </td>
      <td className="col-request" title={event.requestid ?? ''}>
        {event.requestid ?? '—'}
      </td>
      <td className="col-time" title={event.time}>
        {formatTime(event.time)}
      </td>
    </tr>
  );
});

export interface EventLogProps {
  events: readonly FlowEvent[];
  selectedSeq: number | null;
  onOpen(event: FlowEvent, trigger: HTMLElement): void;
  typeFilter: string;
  onTypeFilter(type: string): void;
  /** Events the stream left out under a flood. */
  skipped: number;
}

/**
 * The log as a live table, oldest at the top and newest at the bottom, in a box of fixed height with
 * rows of fixed height: an arriving row never moves what is being read. It follows the newest rows
 * while scrolled to the bottom, and stays put while scrolled up.
 */
export function EventLog({ events, selectedSeq, onOpen, typeFilter, onTypeFilter, skipped }: EventLogProps) {
  const filterId = useId();
  const followId = useId();
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const filtered = typeFilter ? events.filter((event) => event.type === typeFilter) : events;
  const shown = filtered.length > ROWS_SHOWN ? filtered.slice(filtered.length - ROWS_SHOWN) : filtered;
  const types = typesIn(events);
  if (typeFilter && !types.includes(typeFilter)) types.push(typeFilter);
  const newest = shown.length > 0 ? shown[shown.length - 1]!.seq : null;

  useLayoutEffect(() => {
    const element = box.current;
    if (follow && element) element.scrollTop = element.scrollHeight;
  }, [newest, follow, typeFilter]);

  const onScroll = () => {
    const element = box.current;
    if (!element) return;
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
    if (atBottom !== follow) setFollow(atBottom);
  };

  return (
    <div className="event-log">
      <div className="log-toolbar">
        <label htmlFor={filterId} className="field-label">
          Type
        </label>
        <select id={filterId} value={typeFilter} onChange={(change) => onTypeFilter(change.target.value)}>
          <option value="">All types</option>
          {types.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
        <label htmlFor={followId} className="check">
          <input id={followId} type="checkbox" checked={follow} onChange={(change) => setFollow(change.target.checked)} />
          Follow new events
        </label>
        <p className="log-count" aria-live="off" data-testid="log-count">
          {shown.length === filtered.length ? (filtered.length === 1 ? '1 event' : `${filtered.length} events`) : `newest ${shown.length} of ${filtered.length}`}
          {skipped > 0 ? ` · ${skipped} not shown (too many at once)` : ''}
        </p>
      </div>
      <div className="log-scroll" ref={box} onScroll={onScroll} tabIndex={0} role="region" aria-label="Event log, oldest first">
        <table className="log-table" aria-label="Event log">
          <thead>
            <tr>
              <th scope="col" className="col-seq">
                Seq
              </th>
              <th scope="col" className="col-type">
                Type
              </th>
              <th scope="col" className="col-source">
                Source
              </th>
              <th scope="col" className="col-id">
                Id
              </th>
              <th scope="col" className="col-request">
                Request id
              </th>
              <th scope="col" className="col-time">
                Time
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((event) => (
              <LogRow key={event.seq} event={event} selected={event.seq === selectedSeq} onOpen={onOpen} />
            ))}
          </tbody>
        </table>
        {shown.length === 0 ? (
          <p className="log-empty">{typeFilter ? `No ${typeFilter} events yet.` : 'No events yet. Write a post or a comment on the blog and watch it arrive.'}</p>
        ) : null}
      </div>
    </div>
  );
}
