import {
  applyDelivered,
  deliveredFrom,
  handledTypes,
  reactToDelivered,
  type Delivered,
  type EventConsumer,
  type EventEngine,
  type EventHandlers,
  type EventType,
  type OutgoingEvent,
} from '@blog/contracts';
import type { Lifecycle } from './operations';
import type { Logger } from './logger';
import { ReactionHold } from './reactionHold';

/**
 * How long a reaction waits for the live feed to bring the state to its event before reading the log
 * itself: a live feed whose server died can stay stuck for many seconds (NATS), a read cannot.
 */
const LIVE_FEED_GRACE_MS = 300;

export interface EventReceiverOptions {
  engine: EventEngine;
  handlers: EventHandlers;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Events read per request when replaying the log. */
  replayPage?: number;
  /** Seals the ids of the follow-ups the handlers derive (idSealer), so no other caller can use them first. */
  sealId?: (id: string) => string;
  /** How long each event is held before it is reacted to (moderation's MODERATION_DELAY_MS; default 0). */
  reactionHoldMs?: number;
}

/**
 * How a service takes events in: live deliveries from its engine, and the replay of the log that rebuilds
 * its state at start (and on demand, e.g. for a post created a moment ago). It remembers the newest
 * position it has applied, so a catch-up reads only what came after.
 */
export class EventReceiver implements EventConsumer {
  readonly types: readonly EventType[];
  readonly handlers: EventHandlers;
  private readonly engine: EventEngine;
  private readonly lifecycle: Lifecycle;
  private readonly logger: Logger;
  private readonly replayPage: number;
  private applied = 0;
  private replaying: Promise<void> | null = null;
  private nextReplay: Promise<void> | null = null;
  private readonly waiting = new Set<{ seq: number; reached: (yes: boolean) => void }>();

  private readonly sealId: (id: string) => string;
  /** None without a hold (every service but a slowed moderation): nothing to remember, nothing to wait for. */
  private readonly hold: ReactionHold | null;

  constructor({ engine, handlers, lifecycle, logger, replayPage = 5000, sealId = (id) => id, reactionHoldMs = 0 }: EventReceiverOptions) {
    this.sealId = sealId;
    this.hold = reactionHoldMs > 0 ? new ReactionHold(reactionHoldMs) : null;
    this.engine = engine;
    this.handlers = handlers;
    this.lifecycle = lifecycle;
    this.logger = logger;
    this.replayPage = replayPage;
    this.types = handledTypes(handlers);
  }

  /**
   * Whether it takes events: once the replay is done, until it shuts down. Not the same as answering
   * ready: a replica that is behind the log must go on taking the events that bring it back.
   */
  get ready(): boolean {
    return this.lifecycle.hasCaughtUp && !this.lifecycle.isDraining;
  }

  /** Highest seq applied; everything at or below it has been applied too. */
  get position(): number {
    return this.applied;
  }

  /** Whether the service keeps state that the log rebuilds (moderation keeps none, so never replays). */
  get replays(): boolean {
    return this.handlers.applies.length > 0;
  }

  /** Live events, in order: each applied and reacted to; answers the follow-ups to store. */
  receive(events: readonly Delivered[]): OutgoingEvent[] {
    const outgoing: OutgoingEvent[] = [];
    for (const delivered of events) {
      this.apply(delivered);
      outgoing.push(...this.react(delivered));
    }
    return outgoing;
  }

  apply(delivered: Delivered): void {
    applyDelivered(this.handlers, delivered);
    const { id, seq, requestId } = delivered.context;
    this.logger.info({ eventId: id, seq, type: delivered.event.type, requestId }, 'event handled');
    // Deliveries arrive in order with no gaps, so the newest delivered seq is also a safe position.
    if (seq !== undefined) this.passed(seq);
  }

  passed(seq: number): void {
    if (seq > this.applied) this.moveTo(seq);
  }

  /**
   * Resolves true once the state has reached `seq`, false after `timeoutMs`. The live feed normally gets
   * there first; when it does not within a moment, the log is read up to its end instead (the events the
   * feed brings later are applied again, which changes nothing).
   */
  async whenAt(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= seq) return true;
    const deadline = Date.now() + timeoutMs;
    if (await this.reached(seq, Math.min(LIVE_FEED_GRACE_MS, timeoutMs))) return true;
    await this.catchUp().catch((error: unknown) => this.logger.warn({ err: error, seq }, 'could not read the log to catch up; waiting for the live feed'));
    return this.applied >= seq || this.reached(seq, Math.max(0, deadline - Date.now()));
  }

  private reached(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        seq,
        reached: (yes: boolean) => {
          clearTimeout(timer);
          this.waiting.delete(waiter);
          resolve(yes);
        },
      };
      const timer = setTimeout(() => waiter.reached(false), timeoutMs);
      this.waiting.add(waiter);
    });
  }

  private moveTo(seq: number): void {
    this.applied = seq;
    for (const waiter of this.waiting) if (waiter.seq <= seq) waiter.reached(true);
  }

  heldBack(events: readonly Delivered[]): Promise<void> | undefined {
    return this.hold?.wait(events.filter(({ event }) => this.handlers.reactsTo.includes(event.type)));
  }

  react(delivered: Delivered): OutgoingEvent[] {
    return reactToDelivered(this.handlers, delivered).map((followUp) => ({ ...followUp, id: this.sealId(followUp.id) }));
  }

  /**
   * Reads the log from the current position to its end as it is now. A read already under way may have
   * asked where the log ends before the caller's event was stored (a post created a moment ago), so the
   * caller waits for the next read, which every caller arriving meanwhile shares.
   */
  catchUp(): Promise<void> {
    if (this.replaying) {
      this.nextReplay ??= this.replaying
        .catch(() => undefined)
        .then(() => {
          this.nextReplay = null;
          return this.catchUp();
        });
      return this.nextReplay;
    }
    this.replaying = this.replayToEnd().finally(() => {
      this.replaying = null;
    });
    return this.replaying;
  }

  /**
   * Replaying applies events and reacts to none: their follow-ups were stored when they were live. It
   * reads up to where the log ended when it began: a short page (a read that timed out part-way, a page
   * cut by its size) is not the end, so it reads on. An empty page is: the engines answer one only when
   * nothing is stored further on (the seqs before the end hold no events: a repair recorded them as lost).
   */
  private async replayToEnd(): Promise<void> {
    const { logEnd } = await this.engine.feedPosition();
    while (this.applied < logEnd) {
      const page = await this.engine.read(this.applied, this.replayPage);
      if (page.length === 0) return;
      for (const stored of page) {
        if (stored.seq <= this.applied) continue;
        if (stored.refused) this.logger.warn({ seq: stored.seq, reason: stored.refused }, `refused an event of the log: ${stored.refused}`);
        else if ((this.handlers.applies as readonly string[]).includes(stored.type)) {
          // The bus validates known types on publish, so a failure here means an older, looser log entry.
          const delivered = deliveredFrom(stored);
          if (delivered) applyDelivered(this.handlers, delivered);
        }
        this.moveTo(stored.seq);
      }
    }
  }
}
