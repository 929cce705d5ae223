import type { Delivered, EventConsumer, EventEngine } from '@blog/contracts';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { parkDeadLetter } from './deadLetters';
import { backoffSteps, consumerConfig, ensureDurable, type Feed, type ReactionOptions } from './durables';
import { PULL_EXPIRES_MS } from './names';

/**
 * The side effects of a service, once per event across all its replicas: one durable consumer, shared
 * by them, hands each event to one replica; it is acknowledged only after the events it caused are
 * stored. An event whose handler fails is delivered again after a backoff, and on its last delivery is
 * parked in the dead-letter stream instead. Follow-up ids are derived, so a redelivery stores nothing twice.
 */
export class SharedReactions {
  private messages: ConsumerMessages | null = null;
  private link: NatsLink | null = null;
  private arrived: JsMsg[] = [];
  private handleScheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    /** The consumer's name, as /subscribers and /dead-letters show it: the service's. */
    private readonly name: string,
    private readonly feed: Feed,
    private readonly consumer: EventConsumer,
    private readonly publish: EventEngine['publish'],
    private readonly options: ReactionOptions,
    private readonly logger: Logger,
  ) {}

  async start(link: NatsLink): Promise<void> {
    await ensureDurable(link, this.feed.stream, consumerConfig(this.feed.durable, this.feed.filter, this.options));
    this.link = link;
    const durable = await link.js.consumers.get(this.feed.stream, this.feed.durable);
    this.messages = await durable.consume({ max_messages: this.options.inFlight, expires: PULL_EXPIRES_MS, callback: (message) => this.arrive(message) });
  }

  /**
   * Messages that arrive in one turn of the event loop are handled together: their follow-ups are
   * published, and then they are acknowledged, in one write each rather than one per message.
   */
  private arrive(message: JsMsg): void {
    this.arrived.push(message);
    if (this.handleScheduled) return;
    this.handleScheduled = true;
    setImmediate(() => {
      this.handleScheduled = false;
      const batch = this.handleBatch(this.arrived.splice(0)).finally(() => this.inFlight.delete(batch));
      this.inFlight.add(batch);
    });
  }

  private async handleBatch(messages: JsMsg[]): Promise<void> {
    const outcomes = await Promise.all(messages.map((message) => this.handle(message)));
    // Acknowledged together, in one write, once every follow-up of the batch is stored.
    outcomes.forEach((outcome, index) => outcome?.(messages[index]!));
  }

  /** Handles one message; answers how to settle it (ack, nak, term), or nothing when it is settled already. */
  private async handle(message: JsMsg): Promise<((message: JsMsg) => void) | undefined> {
    // Shutting down: another replica takes it now rather than after the ack wait.
    if (!this.consumer.ready) return (m) => m.nak();
    const carried = this.feed.eventOf(message);
    if (carried && 'refused' in carried) {
      this.logger.warn({ seq: message.seq, subject: message.subject, reason: carried.refused }, `refused an event: ${carried.refused}`);
      return (m) => m.ack();
    }
    if (!carried || !this.consumer.handlers.reactsTo.includes(carried.delivered.event.type)) return (m) => m.ack();
    const { delivered, stored } = carried;
    // This replica's state must have taken the event in first (its live feed is a consumer of its own).
    const seq = delivered.context.seq;
    if (this.consumer.handlers.applies.length > 0 && seq !== undefined && !(await this.consumer.whenAt(seq, this.options.ackWaitMs / 2))) {
      return (m) => m.nak();
    }
    const held = this.consumer.heldBack([delivered]);
    if (held) await this.whileWorking(message, () => held);
    let outgoing;
    try {
      outgoing = this.consumer.react(delivered);
    } catch (error) {
      await this.refused(message, delivered, stored, error instanceof Error ? error.message : String(error));
      return undefined;
    }
    try {
      // A publish may wait out a leader's election (NATS_PUBLISH_WAIT_MS, longer than the ack wait): the
      // message stays this replica's meanwhile, rather than going to another and costing a delivery.
      await this.whileWorking(message, () => Promise.all(outgoing.map(({ event, id, requestId }) => this.publish(event, { id, requestId }))));
      return (m) => m.ack();
    } catch (error) {
      const reason = `could not store its follow-ups: ${error instanceof Error ? error.message : String(error)}`;
      // Not the event's fault; but on its last delivery NATS would drop it: parked instead, to be sent back.
      if (message.info.deliveryCount >= this.options.maxDeliveries) {
        await this.refused(message, delivered, stored, reason);
        return undefined;
      }
      this.logger.warn({ err: error, seq: message.seq }, 'could not store the follow-ups of an event; it is delivered again');
      return (m) => m.nak(this.options.ackWaitMs);
    }
  }

  /** Runs `work`, telling the server now and then that this replica still works on the message, so it is not given to another. */
  private async whileWorking<T>(message: JsMsg, work: () => Promise<T>): Promise<T> {
    const keepAlive = setInterval(() => message.working(), Math.max(100, this.options.ackWaitMs / 2));
    try {
      return await work();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async refused(message: JsMsg, delivered: Delivered, stored: unknown, reason: string): Promise<void> {
    const attempts = message.info.deliveryCount;
    const seq = delivered.context.seq ?? message.seq;
    if (attempts < this.options.maxDeliveries) {
      this.logger.warn({ seq, type: delivered.event.type, attempts, reason }, 'an event was refused; it is delivered again later');
      message.nak(backoffSteps(this.options)[attempts - 1] ?? this.options.retryMaxMs);
      return;
    }
    try {
      await parkDeadLetter(this.link!, {
        consumer: this.name,
        event: stored,
        seq,
        id: delivered.context.id ?? '',
        type: delivered.event.type,
        attempts,
        reason,
        parkingId: this.feed.parkingId(message, delivered),
      });
      this.logger.error({ seq, type: delivered.event.type, attempts, reason }, 'an event was refused too often; parked as a dead letter');
      message.term();
    } catch (error) {
      this.logger.error({ err: error, seq: message.seq }, 'could not park a dead letter; it is delivered again');
      message.nak(this.options.retryMaxMs);
    }
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await Promise.all(this.inFlight);
  }
}
