import { isKnownEventType, knownEventSchema, type LogEntry, type EventType, type KnownEvent } from './events';

/**
 * The event engine as a service sees it: the one seam between the blog's services and whatever carries
 * their events. A service publishes events durably, receives the events of the types it handles (in
 * order, at least once) and replays the log from the start to rebuild its state; nothing else.
 *
 * Adapters: the embedded bus over HTTP (service-kit's `HttpEngine`, the default), NATS JetStream
 * (service-kit's `NatsEngine`, when NATS_URL is set) and `MemoryEngine` here, which the unit tests use.
 */
export interface EventEngine {
  /** CloudEvents `source` of everything this engine publishes for its service, e.g. "/comments". */
  readonly source: string;
  /** How live events reach it. `push`: POSTed to its `/events` (the embedded bus). `pull`: `subscribe` fetches them. */
  readonly delivery: 'push' | 'pull';
  /** Resolves once the event is durably stored; an event with the same id is stored at most once. */
  publish(event: KnownEvent, options?: PublishOptions): Promise<PublishReceipt>;
  /**
   * Stored events with a position after `after`, oldest first, at most `limit` (and at most a page's
   * worth of bytes): the replay at start. A short page is not the end of the log: `feedPosition` says where that is.
   */
  read(after: number, limit: number): Promise<LogEntry[]>;
  /**
   * Where the log ends now, and how far the engine has brought this service past events it does not
   * handle (0 when the service's own position says it all): how a replica tells whether it keeps up.
   */
  feedPosition(): Promise<FeedPosition>;
  /**
   * From now on, hands the consumer the live events of its types, in order, at least once; the events it
   * answers with are stored before the ones that caused them count as delivered.
   */
  subscribe(consumer: EventConsumer): Promise<Subscription>;
  close(): Promise<void>;
  /**
   * Why the service must not be sent traffic because of its engine (its log found damaged), or null.
   * Engines that keep no state of their own to check leave it out.
   */
  problem?(): EngineProblem | null;
}

/** What is wrong with an engine, as a service's `/readyz` reports it. */
export interface EngineProblem {
  /** One word or two for the state (`damaged`). */
  status: string;
  /** What is wrong, each in a sentence. */
  problems: string[];
  /** What the operator can do about it. */
  action: string;
}

export interface PublishOptions {
  /** Fixed before the first attempt, so a retried publish is stored once; a new UUID when left out. */
  id?: string;
  /** The request that caused the event, carried on it as the CloudEvents attribute `requestid`. */
  requestId?: string;
}

export interface PublishReceipt {
  id: string;
  /** The event's position in the log. */
  seq: number;
  /** The log already held an event with this id, so nothing new was stored (both engines say so). */
  duplicate?: boolean;
}

/** Where a received event sits in the log, and the request that caused it. */
export interface EventContext {
  id?: string;
  seq?: number;
  requestId?: string;
}

/** An event published in reaction to a received one; its id is derived from that one, so a repeat is stored once. */
export interface FollowUp {
  event: KnownEvent;
  id: string;
}

/**
 * What a service does with events. `apply` changes its state: every replica applies every event of the
 * `applies` types, in order, live and when replaying the log at start. `react` answers an event with
 * events of its own: once per event, never when replaying. Both must be safe to run twice for one event;
 * `react` only decides (the engine stores what it answers).
 */
export interface EventHandlers {
  readonly applies: readonly EventType[];
  apply?(event: KnownEvent, context: EventContext): void;
  readonly reactsTo: readonly EventType[];
  react?(event: KnownEvent, context: EventContext): readonly FollowUp[];
}

/** A received event of a known type, with its place in the log. */
export interface Delivered {
  event: KnownEvent;
  context: EventContext;
}

/** A follow-up on its way to the log, with the request id it carries on. */
export interface OutgoingEvent extends FollowUp {
  requestId?: string;
}

/**
 * The receiving side of a service, as an engine sees it. An engine that pushes (the embedded bus) hands
 * every event to `receive`; one that runs several replicas of a service (NATS JetStream) calls `apply` on
 * every replica and `react` on one, using `handlers` to know which events go where.
 */
export interface EventConsumer {
  /** The event types it handles; an engine may skip the others. */
  readonly types: readonly EventType[];
  readonly handlers: EventHandlers;
  /** False while the service replays or shuts down: the engine keeps the events and tries again later. */
  readonly ready: boolean;
  /** The log position its state has reached: live events continue after it. */
  readonly position: number;
  /** Handles the events in order; answers the events to store before these count as delivered. */
  receive(events: readonly Delivered[]): OutgoingEvent[];
  /** Applies one event to the state, if it is of an `applies` type, and moves the position to it. */
  apply(delivered: Delivered): void;
  /** The event at `seq` is of no interest to the state: the position moves past it. */
  passed(seq: number): void;
  /** Reacts to one event; answers the events to store before it counts as handled. */
  react(delivered: Delivered): OutgoingEvent[];
  /** Resolves when `events` may be reacted to; undefined when nothing holds them (only MODERATION_DELAY_MS does). */
  heldBack(events: readonly Delivered[]): Promise<void> | undefined;
  /**
   * Resolves true once the state has reached `seq` (at once if it has), false after `timeoutMs`. An
   * engine that applies and reacts on separate feeds (NATS) waits for it, so a reaction sees the state
   * its event made.
   */
  whenAt(seq: number, timeoutMs: number): Promise<boolean>;
}

/** The log's end, and the position the engine has passed for this service (see EventEngine.feedPosition). */
export interface FeedPosition {
  logEnd: number;
  passed: number;
}

/** How a live feed stands: following the log, or behind it and waiting (said in a sentence). */
export type FeedHealth = { state: 'following' } | { state: 'behind'; detail: string };

export interface Subscription {
  stop(): Promise<void>;
  /**
   * The live feed seems stuck (the replica is behind and has not moved): make it again from the
   * replica's position. Engines whose feed cannot get stuck on their side leave it out.
   */
  heal?(): Promise<void>;
  /** The engine's own view of the feeds it keeps for this service (NATS: its share of a durable consumer), when it has one. */
  health?(): FeedHealth;
}

/** The engine cannot take or give events right now; nothing was stored. */
export class EngineUnavailableError extends Error {
  constructor(
    readonly reason: string,
    message = 'the event bus cannot take the event right now; nothing was stored, try again',
  ) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

/**
 * This process's own server does not answer, though its connection is open (a frozen server, a machine
 * gone without a reset): other processes may reach the log, so this one cannot vouch for its view until
 * its client leaves that server for another.
 */
export class ServerNotAnsweringError extends EngineUnavailableError {
  constructor(reason: string) {
    super(reason, 'the event log\'s server does not answer this process');
    this.name = 'ServerNotAnsweringError';
  }
}

/** The engine may have stored the event and could not say so in time: the caller must not assume either way. */
export class EngineOutcomeUnknownError extends Error {
  constructor(readonly reason: string) {
    super('the event bus did not confirm the write in time: it may still appear; check before sending it again');
    this.name = 'EngineOutcomeUnknownError';
  }
}

/** The union of what a service's handlers act on: the types its consumer asks for. */
export function handledTypes(handlers: EventHandlers): EventType[] {
  return [...new Set([...handlers.applies, ...handlers.reactsTo])];
}

/** Applies the event if it is of an `applies` type. */
export function applyDelivered(handlers: EventHandlers, { event, context }: Delivered): void {
  if (handlers.applies.includes(event.type)) handlers.apply?.(event, context);
}

/** Reacts to the event if it is of a `reactsTo` type; the follow-ups carry its request id on. */
export function reactToDelivered(handlers: EventHandlers, { event, context }: Delivered): OutgoingEvent[] {
  if (!handlers.reactsTo.includes(event.type)) return [];
  return (handlers.react?.(event, context) ?? []).map((followUp) => ({ ...followUp, requestId: context.requestId }));
}

/**
 * A stored event (an envelope, with `seq` or given it) as a handler takes it, or null when it is not a
 * known event with valid data: the engines skip those.
 */
export function deliveredFrom(stored: unknown, seq?: number): Delivered | null {
  if (typeof stored !== 'object' || stored === null) return null;
  // Read by hand rather than by a schema: this runs once per event per replica, and only `data` needs one.
  const { type, data, id, seq: storedSeq, requestid } = stored as Record<string, unknown>;
  if (typeof type !== 'string' || !isKnownEventType(type)) return null;
  const event = knownEventSchema.safeParse({ type, data });
  if (!event.success) return null;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    event: event.data,
    context: { id: text(id), seq: seq ?? (typeof storedSeq === 'number' ? storedSeq : undefined), requestId: text(requestid) },
  };
}
