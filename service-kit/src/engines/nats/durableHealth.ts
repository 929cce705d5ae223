import type { FeedHealth } from '@blog/contracts';
import type { NatsLink } from './connection';

/** How often the durable consumer is looked at. */
const LOOK_EVERY_MS = 1_000;

/**
 * Whether a service's durable consumer is being served: its events are handed out to the replicas. It is
 * stalled when events wait (pending), none is in a replica's hands (a deliberate hold, such as
 * moderation's MODERATION_DELAY_MS, keeps some there, so it is not a stall) and nothing more was handed
 * out for `graceMs`. A look that fails (no leader for the consumer yet, the server out of reach) says
 * nothing either way: the feed watch reports an engine out of reach.
 */
export class DurableHealth {
  private timer: NodeJS.Timeout | null = null;
  private delivered = -1;
  private movedAt = Date.now();
  private stalled: string | null = null;

  constructor(
    private readonly stream: string,
    private readonly durable: string,
    private readonly graceMs: number,
  ) {}

  start(link: NatsLink): void {
    this.timer ??= setInterval(
      () =>
        void this.look(link).catch(() => {
          // No answer (a leader being elected): the next answer starts the count again.
          this.delivered = -1;
        }),
      LOOK_EVERY_MS,
    );
    this.timer.unref();
  }

  health(): FeedHealth {
    return this.stalled ? { state: 'behind', detail: this.stalled } : { state: 'following' };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async look(link: NatsLink): Promise<void> {
    const info = await link.jsm.consumers.info(this.stream, this.durable);
    const now = Date.now();
    if (info.delivered.stream_seq !== this.delivered || info.num_pending === 0 || info.num_ack_pending > 0) {
      this.delivered = info.delivered.stream_seq;
      this.movedAt = now;
    }
    const waiting = now - this.movedAt;
    this.stalled =
      waiting >= this.graceMs
        ? `the durable consumer ${this.durable} has ${info.num_pending} events waiting and has handed none out for ${Math.round(waiting / 1000)} s`
        : null;
  }
}
