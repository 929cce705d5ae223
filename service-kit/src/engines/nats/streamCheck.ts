import { setTimeout as sleep } from 'node:timers/promises';
import { EngineUnavailableError, type EngineProblem } from '@blog/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { EVENTS_STREAM } from './names';

/**
 * How often the stream is looked at again: damage shows up while the services run too (a server that
 * recovered a damaged block answers with a smaller end only once it is written to), and a repair
 * clears a problem found earlier.
 */
const RECHECK_MS = 5_000;
/** Damage is confirmed by a second look this much later: a stream leader elected a moment ago may still be applying what it holds. */
const CONFIRM_MS = 1_000;

/**
 * Acknowledged events that the events stream no longer holds. A NATS server whose store was damaged
 * while it was down comes back without complaint in one of two shapes (both measured on nats-server
 * 2.10.27, see docs/RELIABILITY.md): with holes (messages deleted that nobody deleted: this stream never
 * deletes), or with its end moved back, so that the next publish takes a seq that consumers were already
 * handed, and they skip it. The durable consumers' positions are kept in files of their own, and every
 * process remembers the furthest end it has seen, so together they tell how far the stream once reached.
 */
export interface LostEvents {
  /** The stream's first and last seq as it is now. */
  firstSeq: number;
  lastSeq: number;
  /** Messages the stream holds, and how many of its seqs are gone (none are ever deleted on purpose). */
  messages: number;
  missing: number;
  /** The furthest seq the stream is known to have reached, and who knew it (a consumer, or this process). */
  deliveredUpTo: number;
  consumer: string | null;
}

/** Who reported the furthest seq when it is this process: it saw the stream reach it. */
const THIS_PROCESS = 'this process';

/** Seqs from first to last; none on an empty stream (a new one says 0 to 0, a purged one first = last + 1). */
const spanOf = (firstSeq: number, lastSeq: number) => (firstSeq > 0 && lastSeq >= firstSeq ? lastSeq - firstSeq + 1 : 0);

/** Thrown when the stream or a consumer cannot be vouched for right now: no verdict, look again later. */
class NoLeaderYet extends Error {}

/**
 * Compares the stream's end with the durable consumers' positions and with `seenUpTo`; `lost` is null
 * when the stream holds all it should. Only answers from a leader count: while a cluster elects one, a
 * follower may answer with a state that has not yet applied everything the cluster holds, which is not damage.
 */
async function lookAtStream(jsm: JetStreamManager, seenUpTo: number): Promise<{ lost: LostEvents | null; lastSeq: number }> {
  // What this process saw (`seenUpTo`, read by the caller before asking) and the consumers first: a
  // consumer cannot be handed a seq the stream does not hold yet, so positions read before the stream's
  // end never exceed it on a healthy stream, whatever is published in between. Durable consumers only:
  // they are the positions kept on disk, and the ones that skip a reused seq.
  let deliveredUpTo = seenUpTo;
  let consumer: string | null = seenUpTo > 0 ? THIS_PROCESS : null;
  for await (const info of jsm.consumers.list(EVENTS_STREAM)) {
    if (!info.config.durable_name || (info.cluster && !info.cluster.leader)) continue;
    if (info.delivered.stream_seq > deliveredUpTo) {
      deliveredUpTo = info.delivered.stream_seq;
      consumer = info.name;
    }
  }
  const { state, cluster } = await jsm.streams.info(EVENTS_STREAM);
  if (cluster && !cluster.leader) throw new NoLeaderYet(`the stream ${EVENTS_STREAM} has no leader right now`);
  // Nothing is ever deleted from this stream (no limits, no purge but the repair's, which leaves no
  // hole), so a hole is damage. A store that lost its first block reports no first seq at all.
  // (Capped at what seqs 1 to the end can lack: a store without its blocks counted one more than that.)
  const missing = Math.min(Math.max(state.num_deleted ?? 0, spanOf(state.first_seq || 1, state.last_seq) - state.messages), state.last_seq - state.messages);
  const lost = deliveredUpTo <= state.last_seq && missing === 0 ? null : { firstSeq: state.first_seq, lastSeq: state.last_seq, messages: state.messages, missing, deliveredUpTo, consumer };
  return { lost, lastSeq: state.last_seq };
}

/** What the events stream lost, as far as its state and the durable consumers tell; null when it is whole. */
export async function findLostEvents(jsm: JetStreamManager): Promise<LostEvents | null> {
  return (await lookAtStream(jsm, 0)).lost;
}

/** What was found, in sentences for `/readyz`, the log and the refused request. */
export function describeLostEvents(lost: LostEvents): string[] {
  const problems: string[] = [];
  if (lost.deliveredUpTo > lost.lastSeq) {
    const witness = lost.consumer === THIS_PROCESS ? 'this process saw it reach' : `consumer "${lost.consumer}" was already handed`;
    problems.push(
      `the NATS stream ${EVENTS_STREAM} ends at seq ${lost.lastSeq}, but ${witness} seq ${lost.deliveredUpTo}: ` +
        `${lost.deliveredUpTo - lost.lastSeq} acknowledged events are gone from the server's store`,
    );
    problems.push(`a new event would reuse seq ${lost.lastSeq + 1}, which the consumers would skip as one they already have`);
  }
  if (lost.missing > 0) {
    problems.push(`the NATS stream ${EVENTS_STREAM} holds ${lost.messages} events up to seq ${lost.lastSeq}: ${lost.missing} are missing, and nothing ever deletes from it`);
  }
  return problems;
}

export const STREAM_REPAIR_ACTION =
  'stop writing to it, then run `npm run nats:repair` (in a cluster: `kubectl exec deploy/event-bus -- node event-bus/dist/natsRepair.js --save-dir /tmp`) ' +
  'to keep what the stream still holds, record what was lost and move the stream past every seq already handed out; then restart the services so their views are rebuilt. See docs/RELIABILITY.md.';

export class StreamDamagedError extends EngineUnavailableError {
  constructor(readonly lost: LostEvents) {
    super(`${describeLostEvents(lost).join('; ')}. The operator must ${STREAM_REPAIR_ACTION}`, 'the event log is damaged: nothing was stored');
    this.name = 'StreamDamagedError';
  }
}

/**
 * Keeps one connection's view of whether the stream is whole: checked when the connection opens, each
 * time it reconnects (a server may have come back with a damaged store) and every few seconds, so a
 * repair is taken up without a restart. It remembers the furthest end it has seen, from its looks and
 * from its own publishes' receipts: a stream found ending before it lost events. Damage is declared
 * only when two looks a second apart agree, or at once when a publish is handed a seq already used.
 */
export class StreamWatch {
  private lost: LostEvents | null = null;
  private recheck: NodeJS.Timeout | null = null;
  private seenUpTo = 0;

  constructor(private readonly logger: Logger) {}

  /** Checks now, then follows the connection's reconnects until it closes. A check that cannot finish does not hold the connection up. */
  async start(link: NatsLink): Promise<void> {
    await this.check(link);
    this.recheck ??= setInterval(() => void this.check(link), RECHECK_MS);
    this.recheck.unref();
    void this.followReconnects(link);
  }

  /** Throws when the stream is known to be damaged: nothing may be published or read as whole. */
  assertWhole(): void {
    if (this.lost) throw new StreamDamagedError(this.lost);
  }

  problem(): EngineProblem | null {
    return this.lost ? { status: 'damaged', problems: describeLostEvents(this.lost), action: `The operator must ${STREAM_REPAIR_ACTION}` } : null;
  }

  /** The furthest seq this process has seen the stream reach: read before a publish is sent. */
  get furthestSeen(): number {
    return this.seenUpTo;
  }

  /**
   * A publish's receipt. A new event (not a duplicate) handed a seq at or below what the stream had
   * reached before it was sent (`furthestBefore`) means the stream's end moved back: damage, at once.
   * Answers whether it was so.
   */
  stored(seq: number, duplicate: boolean, furthestBefore: number): boolean {
    if (!duplicate && seq <= furthestBefore) {
      this.found({ firstSeq: 0, lastSeq: seq - 1, messages: seq - 1, missing: 0, deliveredUpTo: furthestBefore, consumer: THIS_PROCESS });
      return true;
    }
    this.seenUpTo = Math.max(this.seenUpTo, seq);
    return false;
  }

  stop(): void {
    if (this.recheck) clearInterval(this.recheck);
    this.recheck = null;
  }

  private async followReconnects(link: NatsLink): Promise<void> {
    for await (const status of link.nc.status()) {
      if (status.type === 'reconnect') await this.check(link);
    }
    this.stop();
  }

  private found(lost: LostEvents | null): void {
    if (lost && !this.lost) this.logger.error({ lost, action: STREAM_REPAIR_ACTION }, `the event log is damaged: ${describeLostEvents(lost).join('; ')}`);
    if (!lost && this.lost) this.logger.info({ was: this.lost }, 'the NATS stream is whole again');
    this.lost = lost;
  }

  private async check(link: NatsLink): Promise<void> {
    try {
      let look = await lookAtStream(link.jsm, this.seenUpTo);
      if (look.lost && !this.lost) {
        await sleep(CONFIRM_MS);
        look = await lookAtStream(link.jsm, this.seenUpTo);
      }
      this.found(look.lost);
      // Whole (again, after a repair): the stream has reached its end as it is now.
      if (!look.lost) this.seenUpTo = Math.max(this.seenUpTo, look.lastSeq);
    } catch (error) {
      // No verdict this time (no leader, a timeout): what was known stands until a look succeeds.
      if (!(error instanceof NoLeaderYet)) this.logger.warn({ err: error }, 'could not check the NATS stream; trying again');
    }
  }
}
