import { useEffect, useRef, useState } from 'react';
import { advance, dotsOf, launch, type Flight, type Point } from '../flights';
import { FLOW_SERVICES, lagOf, serviceLabel, statusOf, subscribersOf, type FlowServiceName, type FlowSnapshot, type NodeStatus } from '../flowModel';
import type { ArrivalListener } from '../useFlow';
import { NARROW, NARROW_BELOW_PX, WIDE, useWidth, type Layout } from './diagramLayout';

/** A mark beside the state, so it is never told by colour alone. */
const MARKS: Record<NodeStatus['state'], string> = {
  ready: '●',
  'not-ready': '◐',
  starting: '◐',
  stopping: '◐',
  down: '✕',
  crashed: '✕',
  'backing-off': '↻',
  stopped: '■',
  unknown: '?',
};

export const TYPE_COLOURS: Record<string, string> = {
  PostCreated: '#4f46e5',
  CommentCreated: '#c2410c',
  CommentModerated: '#047857',
  CommentUpdated: '#0e7490',
};
export const OTHER_COLOUR = '#6b7280';

function lagText(lag: number | null): string {
  if (lag === null) return '';
  return lag === 0 ? 'up to date' : `${lag} behind`;
}

interface NodeProps {
  name: FlowServiceName;
  layout: Layout;
  snapshot: FlowSnapshot | null;
  waiting: number;
  now: number;
}

function ServiceNode({ name, layout, snapshot, waiting, now }: NodeProps) {
  const { x, y } = layout.centres[name];
  const { w, h } = name === 'event-bus' ? layout.bus : layout.node;
  const health = snapshot?.services.find((service) => service.name === name);
  const process = snapshot?.supervisor?.processes.find((candidate) => candidate.name === name);
  const status = snapshot ? statusOf(health, process, now) : { state: 'unknown' as const, label: 'loading…', detail: null };
  const lag = lagOf(name, snapshot);
  const isBus = name === 'event-bus';
  const nats = snapshot?.engine === 'nats';
  const natsProcess = snapshot?.supervisor?.processes.find((candidate) => candidate.name === 'nats');
  const title = isBus ? (nats ? 'NATS JetStream' : 'event bus') : serviceLabel(name);
  let extra = lagText(lag);
  if (isBus) {
    const seq = snapshot?.lastSeq;
    extra = nats ? `gateway ${status.label}${natsProcess ? ` · nats ${statusOf(undefined, natsProcess, now).label}` : ''}` : seq != null ? `log ends at seq ${seq}` : '';
  } else if (lag === null && snapshot?.engine === 'nats' && (name === 'posts' || name === 'query')) {
    extra = 'reads the stream itself';
  }
  const stateLine = isBus && nats ? (seqLine(snapshot) ?? status.label) : status.label;
  const spoken = [`${title}: ${isBus && nats ? `gateway ${status.label}` : status.label}`, status.detail, isBus ? extra : lag !== null ? lagText(lag) : null, waiting > 0 ? `${waiting} events waiting at the bus` : null]
    .filter(Boolean)
    .join('; ');
  return (
    <g
      className={`flow-node ${isBus ? 'flow-bus' : ''} node-${status.state}`}
      role="img"
      aria-label={spoken}
      data-testid={`flow-node-${name}`}
      data-state={status.state}
      data-lag={lag ?? undefined}
      transform={`translate(${x - w / 2} ${y - h / 2})`}
    >
      <title>{spoken}</title>
      <rect width={w} height={h} rx={12} />
      <text x={w / 2} y={28} className="node-name">
        {title}
      </text>
      <text x={w / 2} y={54} className="node-state">
        {isBus && nats ? stateLine : `${MARKS[status.state]} ${status.label}`}
      </text>
      <text x={w / 2} y={78} className="node-extra">
        {extra}
      </text>
    </g>
  );
}

const seqLine = (snapshot: FlowSnapshot | null): string | null => (snapshot?.lastSeq != null ? `stream ends at seq ${snapshot.lastSeq}` : null);

/** Time between two drawings of moving dots: 30 a second looks smooth and costs half of 60. */
const FRAME_MS = 32;

export interface FlowDiagramProps {
  snapshot: FlowSnapshot | null;
  subscribeArrivals(listener: ArrivalListener): () => void;
  /** The tall layout; unset: chosen by the diagram's own width (or `narrowFallback` where it cannot be measured). */
  narrow?: boolean;
  narrowFallback?: boolean;
  reducedMotion: boolean;
  /** The clock (tests pass their own). */
  now?: () => number;
}

/**
 * The services around the bus. Each new event is a dot that travels from its publisher to the bus, waits
 * there until the bus has delivered it to each subscriber that receives it (the subscriber's position
 * reached it), then travels on; a subscriber that is behind has a queue of dots by the bus and its lag.
 */
export function FlowDiagram({ snapshot, subscribeArrivals, narrow: narrowGiven, narrowFallback = false, reducedMotion, now = Date.now }: FlowDiagramProps) {
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const narrow = narrowGiven ?? (width > 0 ? width < NARROW_BELOW_PX : narrowFallback);
  const layout = narrow ? NARROW : WIDE;
  const [flights, setFlights] = useState<Flight[]>([]);
  const [clock, setClock] = useState(now);
  const snapshotRef = useRef(snapshot);
  snapshotRef.current = snapshot;
  const clockRef = useRef(now);
  clockRef.current = now;

  useEffect(
    () =>
      subscribeArrivals((events) => {
        const at = clockRef.current();
        setFlights((flying) => [...flying, ...launch(events, snapshotRef.current, at, flying)]);
      }),
    [subscribeArrivals],
  );

  // A new snapshot may let waiting dots go.
  useEffect(() => {
    setFlights((flying) => (flying.length === 0 ? flying : advance(flying, snapshot, now())));
  }, [snapshot, now]);

  // While anything is in the air: about 30 frames a second (the browser pauses this in a hidden tab).
  const moving = flights.some((flight) => flight.legs.some((leg) => leg.departAt !== null) || flight.atBus > clock || flight.legs.length === 0);
  useEffect(() => {
    if (!moving) return undefined;
    let frame = 0;
    let drawnAt = 0;
    const step = () => {
      const at = now();
      if (at - drawnAt >= FRAME_MS) {
        drawnAt = at;
        setClock(at);
        setFlights((flying) => advance(flying, snapshotRef.current, at));
      }
      frame = requestAnimationFrame(step);
    };
    frame = requestAnimationFrame(step);
    return () => cancelAnimationFrame(frame);
  }, [moving, now]);

  const { dots, waiting } = dotsOf(flights, layout.centres, clock, reducedMotion);
  const natsReadModels = snapshot?.engine === 'nats';
  return (
    <div ref={box} className="flow-diagram-box">
      <svg
        className="flow-diagram"
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="group"
        aria-label="The services and the event bus; each new event travels from its publisher through the bus to its subscribers"
        data-testid="flow-diagram"
        data-layout={narrow ? 'narrow' : 'wide'}
      >
        <g className="flow-edges" aria-hidden="true">
          {FLOW_SERVICES.filter((name) => name !== 'event-bus').map((name) => {
            const from = layout.centres[name];
            const to = layout.centres['event-bus'];
            const direct = natsReadModels && subscribersOf(name, snapshot).length === 0;
            return <line key={name} x1={from.x} y1={from.y} x2={to.x} y2={to.y} className={direct ? 'edge edge-direct' : 'edge'} />;
          })}
        </g>
        <g className="flow-dots" aria-hidden="true">
          {dots.map((dot) => (
            <circle key={dot.key} cx={dot.x} cy={dot.y} r={7} fill={TYPE_COLOURS[dot.type] ?? OTHER_COLOUR} className="dot" data-testid="flow-dot" data-type={dot.type} />
          ))}
        </g>
        {FLOW_SERVICES.map((name) => (
          <ServiceNode key={name} name={name} layout={layout} snapshot={snapshot} waiting={waiting[name] ?? 0} now={now()} />
        ))}
        <g className="flow-queues" aria-hidden="true">
          {(Object.entries(waiting) as [FlowServiceName, number][]).map(([name, count]) => {
            const bus = layout.centres['event-bus'];
            const target = layout.centres[name];
            const at = { x: bus.x + (target.x - bus.x) * 0.5, y: bus.y + (target.y - bus.y) * 0.5 };
            return (
              <text key={name} x={at.x} y={at.y - 14} className="queue-count" data-testid={`flow-waiting-${name}`}>
                {count} waiting
              </text>
            );
          })}
        </g>
      </svg>
    </div>
  );
}
