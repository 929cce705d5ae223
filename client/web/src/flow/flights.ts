/**
 * The travelling dots of the diagram, as data: each new event flies from its publisher to the bus, then
 * to each subscriber that receives it once the bus has delivered it there (the subscriber's position
 * reached the event's seq). Pure: time comes in as an argument.
 */
import { hasReached, publisherOf, routesOf, type FlowEvent, type FlowServiceName, type FlowSnapshot } from './flowModel';

/** How long one leg (publisher to bus, or bus to subscriber) takes. */
export const LEG_MS = 900;
/** Most events in the air at once; more (a flood) are shown in the log but not animated. */
export const MAX_FLIGHTS = 40;
/** Most dots one batch of new events starts (the newest): a flood costs the page little. */
export const MAX_LAUNCH_PER_BATCH = 8;
/** Most dots queued by the bus for one subscriber; its lag tells the rest. */
export const MAX_WAITING = 30;

export interface Leg {
  service: FlowServiceName;
  /** The subscriber whose position says when the event got there; null: at once. */
  subscriberId: string | null;
  /** When it left the bus; null while it waits there. */
  departAt: number | null;
}

export interface Flight {
  key: string;
  seq: number;
  type: string;
  from: FlowServiceName | null;
  bornAt: number;
  /** When it reached the bus. */
  atBus: number;
  legs: Leg[];
}

export function launch(events: readonly FlowEvent[], snapshot: FlowSnapshot | null, now: number, flying: readonly Flight[]): Flight[] {
  const room = Math.min(MAX_LAUNCH_PER_BATCH, Math.max(0, MAX_FLIGHTS - flying.length));
  return (room === 0 ? [] : events.slice(-room)).map((event) => {
    const from = publisherOf(event);
    return {
      key: `${event.seq}`,
      seq: event.seq,
      type: event.type,
      from,
      bornAt: now,
      atBus: from ? now + LEG_MS : now,
      legs: routesOf(event.type, snapshot).map((route) => ({ service: route.service, subscriberId: route.subscriber?.id ?? null, departAt: null })),
    };
  });
}

/** Lets waiting legs go once their subscriber has the event; drops what has landed; bounds each queue. */
export function advance(flights: readonly Flight[], snapshot: FlowSnapshot | null, now: number): Flight[] {
  const positions = new Map((snapshot?.subscribers ?? []).map((subscriber) => [subscriber.id, subscriber]));
  const waitingPer = new Map<FlowServiceName, number>();
  const next: Flight[] = [];
  // Newest first, so the queue keeps the newest dots when it is full.
  for (const flight of [...flights].reverse()) {
    const legs: Leg[] = [];
    for (const leg of flight.legs) {
      if (leg.departAt !== null) {
        if (now < leg.departAt + LEG_MS) legs.push(leg);
        continue;
      }
      const subscriber = leg.subscriberId === null ? null : (positions.get(leg.subscriberId) ?? undefined);
      // A subscriber that is gone from the list (NATS consumer deleted) lets its dots go rather than hold them forever.
      if (now >= flight.atBus && (subscriber === undefined || hasReached(subscriber, flight.seq))) {
        legs.push({ ...leg, departAt: Math.max(now, flight.atBus) });
        continue;
      }
      const waiting = (waitingPer.get(leg.service) ?? 0) + 1;
      waitingPer.set(leg.service, waiting);
      if (waiting <= MAX_WAITING) legs.push(leg);
    }
    const landed = legs.length === 0 && now >= flight.atBus;
    if (!landed) next.push(legs === flight.legs ? flight : { ...flight, legs });
  }
  return next.reverse();
}

export interface Point {
  x: number;
  y: number;
}

export interface Dot {
  key: string;
  type: string;
  x: number;
  y: number;
}

export interface DotsView {
  dots: Dot[];
  /** Per subscriber: dots waiting by the bus (shown as a short queue and a count). */
  waiting: Partial<Record<FlowServiceName, number>>;
}

const along = (from: Point, to: Point, t: number): Point => ({ x: from.x + (to.x - from.x) * t, y: from.y + (to.y - from.y) * t });
const clamp = (t: number) => Math.min(1, Math.max(0, t));
/** Where a queue by the bus starts (its back), and the gap between its dots, as fractions of the bus-to-service line. */
const QUEUE_START = 0.42;
const QUEUE_GAP = 0.05;
const QUEUE_SHOWN = 5;

/**
 * Where each dot is at `now`. With reduced motion nothing travels: a dot sits by the end of its leg for
 * the leg's time, then moves on (no movement is drawn in between).
 */
export function dotsOf(flights: readonly Flight[], centres: Record<FlowServiceName, Point>, now: number, reducedMotion: boolean): DotsView {
  const bus = centres['event-bus'];
  const dots: Dot[] = [];
  const waiting: Partial<Record<FlowServiceName, number>> = {};
  for (const flight of flights) {
    if (now < flight.atBus && flight.from) continue;
    for (const leg of flight.legs) if (leg.departAt === null) waiting[leg.service] = (waiting[leg.service] ?? 0) + 1;
  }
  const queued: Partial<Record<FlowServiceName, number>> = {};
  for (const flight of flights) {
    if (now < flight.atBus && flight.from) {
      const t = reducedMotion ? 0.75 : clamp((now - flight.bornAt) / LEG_MS);
      dots.push({ key: `${flight.key}-in`, type: flight.type, ...along(centres[flight.from], bus, t) });
      continue;
    }
    for (const leg of flight.legs) {
      const target = centres[leg.service];
      if (leg.departAt === null) {
        // Oldest first: the front of the queue is nearest the subscriber; the first few are drawn.
        const index = queued[leg.service] ?? 0;
        queued[leg.service] = index + 1;
        const shown = Math.min(waiting[leg.service] ?? 0, QUEUE_SHOWN);
        if (index < shown) dots.push({ key: `${flight.key}-${leg.service}`, type: flight.type, ...along(bus, target, QUEUE_START + (shown - 1 - index) * QUEUE_GAP) });
        continue;
      }
      const t = reducedMotion ? 0.75 : clamp((now - leg.departAt) / LEG_MS);
      dots.push({ key: `${flight.key}-${leg.service}`, type: flight.type, ...along(bus, target, t) });
    }
  }
  return { dots, waiting };
}
