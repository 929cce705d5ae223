import { deliveredFrom, type EventConsumer } from '@blog/contracts';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { EVENTS_STREAM, PULL_EXPIRES_MS, filterFor } from './names';
import { parsedOrNull } from './reader';

/**
 * Keeps one replica's state current: an ordered consumer of its own (no acks, nothing shared), from just
 * after the position the replay reached. Every replica of a service runs one, so each applies every event.
 * The client recreates an ordered consumer by itself when its server goes away, from where it was.
 */
export class LiveApply {
  private messages: ConsumerMessages | null = null;

  constructor(
    private readonly consumer: EventConsumer,
    private readonly logger: Logger,
  ) {}

  async start(link: NatsLink): Promise<void> {
    const { applies } = this.consumer.handlers;
    const ordered = await link.js.consumers.get(EVENTS_STREAM, {
      filter_subjects: filterFor(applies),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.consumer.position + 1,
    });
    // A callback rather than an async iterator: each message is applied as it is read, with no hop per message.
    this.messages = await ordered.consume({ max_messages: 512, expires: PULL_EXPIRES_MS, callback: (message) => this.applyOne(message) });
  }

  private applyOne(message: JsMsg): void {
    const delivered = deliveredFrom(parsedOrNull(message.string()), message.seq);
    if (!delivered) {
      this.consumer.passed(message.seq);
      return;
    }
    try {
      this.consumer.apply(delivered);
    } catch (error) {
      // No one else holds this event for this replica: it is logged and passed, not retried for ever.
      this.logger.error({ err: error, seq: message.seq, type: delivered.event.type }, 'could not apply an event; passed over');
      this.consumer.passed(message.seq);
    }
  }

  async stop(): Promise<void> {
    await this.messages?.close();
  }
}
