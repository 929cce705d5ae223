import { deliveredFrom, type Delivered, type EventConsumer, type EventEngine, type EventType, type OutgoingEvent } from '@blog/contracts';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { EVENTS_STREAM, EVENTS_SUBJECTS, PULL_EXPIRES_MS, typeOfSubject } from './names';
import { parsedOrNull } from './reader';

export interface ReactionAuditOptions {
  /** How often the durable consumer's position is compared with the follow-ups seen. */
  intervalMs: number;
  /** How far before the durable's ack floor a starting replica looks, in stream positions. */
  lookBack: number;
  /** Longest wait for this replica's state to reach an event before reacting to it again. */
  stateWaitMs: number;
  /**
   * How long an event stays passed without its follow-ups before it is reacted to again. Just after a
   * consumer's leader changes, a replica may still be storing the follow-ups of an event the new
   * leader already counts as acknowledged (a publish waits out an election for up to
   * NATS_PUBLISH_WAIT_MS, 10 s), so only an event still without them after this counts as skipped.
   */
  graceMs: number;
}

export const DEFAULT_AUDIT: ReactionAuditOptions = { intervalMs: 2_000, lookBack: 2_000, stateWaitMs: 1_000, graceMs: 15_000 };

/** The `id` of a stored envelope, for a message published without a message id. */
function idOf(text: string): string | undefined {
  const stored = parsedOrNull(text);
  const id = typeof stored === 'object' && stored !== null ? (stored as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** The warning logged for each event reacted to again; the chaos run counts it. */
export const SKIPPED_REACTION_WARNING =
  'the durable consumer passed an event without its reaction (a nats-server before 2.10.26 can skip events after its leader changes); reacted to it now';

/**
 * A replica holds at most this many events waiting for the durable to pass them, so one far behind (its
 * service down for long) keeps its memory bounded; the oldest are let go unchecked.
 */
const MAX_AWAITING = 20_000;

/**
 * Every event its service reacts to gets its reaction, even when the server's durable consumer skips it.
 *
 * nats-server releases before 2.10.26 can do that: after the consumer's leader changes (a server
 * killed), an acknowledgement of a message the new leader did not know had been delivered moves the
 * consumer past earlier messages that were still unacknowledged, and those are never delivered again.
 * Once nothing is pending its ack floor moves past them, as if they had been handled. A CI chaos run
 * was left with fifty comments pending for ever, most likely by this.
 *
 * Each replica reads the stream with an ordered consumer of its own and notes the events its service
 * reacts to and the ids of the events it publishes. Reactions are stored before their event is
 * acknowledged, so once the durable's ack floor has passed an event, its follow-ups are in the stream;
 * the audit reads up to the stream's end as it was then and, for an event whose follow-ups are still
 * missing after a grace period, makes the reaction again. Follow-up ids are derived from their event,
 * so when several replicas make up for the same event, or a slow replica stores it after all, it is
 * stored once; only a reaction that was really missing is logged (SKIPPED_REACTION_WARNING).
 */
export class ReactionAudit {
  /**
   * Events reacted to, by seq, until the durable has passed them (a Map keeps them in seq order), as
   * their stored bytes: most were settled by this replica, or have their follow-ups, and are never parsed.
   */
  private readonly awaiting = new Map<number, Uint8Array>();
  /** Passed events found without their follow-ups, with when that was first seen. */
  private readonly suspectSince = new Map<number, number>();
  /** Events this replica reacted to itself: their follow-ups are stored, nothing to check. */
  private readonly settledHere = new Set<number>();
  /** Ids of the events this service published, with their seqs, as long as an awaited event may have caused them. */
  private readonly published = new Map<string, number>();
  private position = 0;
  private messages: ConsumerMessages | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;

  constructor(
    private readonly durable: string,
    private readonly consumer: EventConsumer,
    private readonly ownTypes: readonly string[],
    private readonly publish: EventEngine['publish'],
    private readonly options: ReactionAuditOptions,
    private readonly logger: Logger,
  ) {}

  async start(link: NatsLink): Promise<void> {
    const info = await link.jsm.consumers.info(EVENTS_STREAM, this.durable);
    const from = Math.max(1, info.ack_floor.stream_seq - this.options.lookBack + 1);
    this.position = from - 1;
    // The whole stream: every position is seen, so the audit knows when it has read up to a given seq.
    const ordered = await link.js.consumers.get(EVENTS_STREAM, { filter_subjects: EVENTS_SUBJECTS, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    this.messages = await ordered.consume({ max_messages: 512, expires: PULL_EXPIRES_MS, callback: (message) => this.note(message) });
    this.timer = setInterval(() => {
      this.checking ??= this.check(link)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not audit the reactions this round; trying again'))
        .finally(() => {
          this.checking = null;
        });
    }, this.options.intervalMs);
  }

  /** This replica's durable share stored the event's follow-ups (SharedReactions tells). */
  settled(seq: number): void {
    this.settledHere.add(seq);
  }

  /** Sorts by subject, so most messages cost no parsing: the audit reads every event of the stream. */
  private note(message: JsMsg): void {
    this.position = message.seq;
    const type = typeOfSubject(message.subject);
    if (this.consumer.handlers.reactsTo.includes(type as EventType)) {
      // A copy: the message's bytes are a view of the connection's read buffer, which they would keep alive.
      this.awaiting.set(message.seq, message.data.slice());
      if (this.awaiting.size > MAX_AWAITING) this.awaiting.delete(this.awaiting.keys().next().value!);
    } else if (this.ownTypes.includes(type)) {
      // Every publisher of the blog sets the event's id as the message id, for the stream's dedupe.
      const id = message.headers?.get('Nats-Msg-Id') || idOf(message.string());
      if (id) this.published.set(id, message.seq);
    }
  }

  /** One round: the events the durable has passed, each checked for its follow-ups. */
  private async check(link: NatsLink): Promise<void> {
    const info = await link.jsm.consumers.info(EVENTS_STREAM, this.durable);
    // Only acknowledgements move the ack floor: everything at or below it was acknowledged, or skipped.
    const passed = info.ack_floor.stream_seq;
    // Read after the consumer: every follow-up of a passed event was stored before it was acknowledged.
    const { state } = await link.jsm.streams.info(EVENTS_STREAM);
    if (!(await this.readUpTo(state.last_seq))) return;
    for (const [seq, data] of this.awaiting) {
      if (seq > passed) break;
      const verdict = this.settledHere.has(seq) ? 'stored' : await this.reactionOf(seq, data);
      if (verdict === 'state behind') return;
      if (verdict === 'not yet') continue;
      this.awaiting.delete(seq);
      this.suspectSince.delete(seq);
    }
    const oldestAwaited = this.awaiting.keys().next().value ?? this.position + 1;
    for (const [id, seq] of this.published) if (seq < oldestAwaited) this.published.delete(id);
    for (const seq of this.settledHere) if (seq < oldestAwaited) this.settledHere.delete(seq);
    for (const seq of this.suspectSince.keys()) if (seq < oldestAwaited) this.suspectSince.delete(seq);
  }

  private async readUpTo(seq: number): Promise<boolean> {
    const deadline = Date.now() + this.options.intervalMs;
    while (this.position < seq) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /**
   * Whether the event's follow-ups are in the stream: `stored` (found, or made now), `not yet` (missing
   * for less than the grace period, or a publish failed: checked again next round) or `state behind`
   * (this replica's state has not reached the event: the round stops).
   */
  private async reactionOf(seq: number, data: Uint8Array): Promise<'stored' | 'not yet' | 'state behind'> {
    const delivered = deliveredFrom(parsedOrNull(new TextDecoder().decode(data)), seq);
    if (!delivered) return 'stored';
    if (this.consumer.handlers.applies.length > 0 && !(await this.consumer.whenAt(seq, this.options.stateWaitMs))) return 'state behind';
    let followUps;
    try {
      followUps = this.consumer.react(delivered);
    } catch {
      // An event its handler refuses is the durable's to retry and park (dead letters), not the audit's.
      return 'stored';
    }
    const missing = followUps.filter((followUp) => !this.published.has(followUp.id));
    if (missing.length === 0) return 'stored';
    const since = this.suspectSince.get(seq) ?? Date.now();
    this.suspectSince.set(seq, since);
    if (Date.now() - since < this.options.graceMs) return 'not yet';
    return this.makeUp(delivered, missing);
  }

  private async makeUp(delivered: Delivered, missing: OutgoingEvent[]): Promise<'stored' | 'not yet'> {
    const seq = delivered.context.seq;
    let receipts;
    try {
      receipts = await Promise.all(missing.map(({ event, id, requestId }) => this.publish(event, { id, requestId })));
    } catch (error) {
      this.logger.warn({ err: error, seq }, 'could not store a reaction the durable consumer skipped; trying again');
      return 'not yet';
    }
    // Stored by now after all (a replica was slow, not skipped): the stream kept the first copy.
    if (receipts.every((receipt) => receipt.duplicate)) return 'stored';
    this.logger.warn({ seq, type: delivered.event.type, followUps: missing.map((followUp) => followUp.event.type) }, SKIPPED_REACTION_WARNING);
    return 'stored';
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    await this.messages?.close();
  }
}
