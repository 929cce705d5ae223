import { deliveredFrom, type EventConsumer } from '@blog/contracts';
import { DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { EVENTS_STREAM, EVENTS_SUBJECTS, PULL_EXPIRES_MS } from './names';
import { eventOfMessage } from './reader';

/**
 * Keeps one replica's state current: an ordered consumer of its own (no acks, nothing shared), from just
 * after the position the replica has reached. Every replica of a service runs one, so each applies every
 * event. It reads the whole stream and passes the events its service does not apply, so the replica's
 * position is the stream's and can be compared with its end (see FeedWatch).
 *
 * The client library (nats.js 3.3.1) makes an ordered consumer again only when its server answers
 * "consumer not found"; when that server is gone, its look-ups time out and it retries them for ever.
 * So the replica watches its own progress, and `restart` makes the feed again, on whichever server the
 * connection has now, from the replica's own position.
 */
export class LiveApply {
  private messages: ConsumerMessages | null = null;
  private link: NatsLink | null = null;

  constructor(
    private readonly consumer: EventConsumer,
    private readonly logger: Logger,
  ) {}

  async start(link: NatsLink): Promise<void> {
    this.link = link;
    const ordered = await link.js.consumers.get(EVENTS_STREAM, {
      filter_subjects: EVENTS_SUBJECTS,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.consumer.position + 1,
    });
    // A callback rather than an async iterator: each message is applied as it is read, with no hop per message.
    this.messages = await ordered.consume({ max_messages: 512, expires: PULL_EXPIRES_MS, callback: (message) => this.applyOne(message) });
  }

  /**
   * Brings the replica to the stream's end and makes the feed again from there; the old one is closed
   * without waiting for a server that may be gone. The catch-up reads one message at a time with direct
   * gets, which any server holding the stream answers: a new consumer needs the cluster's meta leader,
   * and when the server that died was that leader, none can be made until another is elected (4 to 9 s
   * on nats-server 2.10), which the feed watch waits out by calling this again.
   */
  async restart(): Promise<void> {
    const link = this.link;
    if (!link) return;
    const old = this.messages;
    this.messages = null;
    void old?.close().catch(() => undefined);
    this.logger.warn({ position: this.consumer.position }, 'the live feed had stopped moving; reading on from this replica\'s position');
    for (;;) {
      const message = await link.jsm.direct.getMessage(EVENTS_STREAM, { seq: this.consumer.position + 1, next_by_subj: EVENTS_SUBJECTS });
      if (!message) break;
      this.applyStored(message.seq, message.subject, message.string());
    }
    if (this.link === link) await this.start(link);
  }

  private applyOne(message: JsMsg): void {
    this.applyStored(message.seq, message.subject, message.string());
  }

  private applyStored(seq: number, subject: string, text: string): void {
    // A feed made again may hand over what the replica already has.
    if (seq <= this.consumer.position) return;
    const carried = eventOfMessage(subject, text);
    if ('refused' in carried) {
      this.logger.warn({ seq, subject, reason: carried.refused }, `refused an event: ${carried.refused}`);
      this.consumer.passed(seq);
      return;
    }
    const delivered = deliveredFrom(carried.stored, seq);
    if (!delivered || !this.consumer.handlers.applies.includes(delivered.event.type)) {
      this.consumer.passed(seq);
      return;
    }
    try {
      this.consumer.apply(delivered);
    } catch (error) {
      // No one else holds this event for this replica: it is logged and passed, not retried for ever.
      this.logger.error({ err: error, seq, type: delivered.event.type }, 'could not apply an event; passed over');
      this.consumer.passed(seq);
    }
  }

  async stop(): Promise<void> {
    this.link = null;
    await this.messages?.close();
  }
}
