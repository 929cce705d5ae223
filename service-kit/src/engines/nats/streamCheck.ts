import { EngineUnavailableError, type EngineProblem } from '@blog/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '../../logger';
import type { NatsLink } from './connection';
import { EVENTS_STREAM } from './names';

/** While the stream is found damaged, how often it is looked at again (a repair clears the problem). */
const RECHECK_MS = 5_000;
/** Damage is confirmed by a second look this much later: a stream leader elected a moment ago may still be applying what it holds. */
const CONFIRM_MS = 1_000;

/**
 * Acknowledged events that the events stream no longer holds. A NATS server whose store was damaged
 * while it was down comes back with fewer messages and no complaint, and the next publish would take a
 * seq that consumers were already handed, so they would skip it. The durable consumers' positions are
 * kept in files of their own, so they survive and tell how far the stream once reached.
 */
export interface LostEvents {
  /** The stream's first and last seq as it is now. */
  firstSeq: number;
  lastSeq: number;
  /** Messages the stream holds; fewer than its seq range means a hole in the middle. */
  messages: number;
  /** The furthest seq any consumer was handed, and that consumer. */
  deliveredUpTo: number;
  consumer: string | null;
}

/** Seqs from first to last; none on an empty stream (a new one says 0 to 0, a purged one first = last + 1). */
const spanOf = (firstSeq: number, lastSeq: number) => (firstSeq > 0 && lastSeq >= firstSeq ? lastSeq - firstSeq + 1 : 0);

/** Thrown when the stream or a consumer cannot be vouched for right now: no verdict, look again later. */
class NoLeaderYet extends Error {}

/**
 * Compares the stream's end with the durable consumers' positions; null when the stream holds all it
 * should. Only answers from a leader count: while a cluster elects one, a follower may answer with a
 * state that has not yet applied everything the cluster holds, which is not damage.
 */
export async function findLostEvents(jsm: JetStreamManager): Promise<LostEvents | null> {
  // Consumers first: a consumer cannot be handed a seq the stream does not hold yet, so positions read
  // before the stream's end never exceed it on a healthy stream, whatever is published in between.
  // Durable ones only: they are the positions kept on disk, and the ones that skip a reused seq.
  let deliveredUpTo = 0;
  let consumer: string | null = null;
  for await (const info of jsm.consumers.list(EVENTS_STREAM)) {
    if (!info.config.durable_name || (info.cluster && !info.cluster.leader)) continue;
    if (info.delivered.stream_seq > deliveredUpTo) {
      deliveredUpTo = info.delivered.stream_seq;
      consumer = info.name;
    }
  }
  const { state, cluster } = await jsm.streams.info(EVENTS_STREAM);
  if (cluster && !cluster.leader) throw new NoLeaderYet(`the stream ${EVENTS_STREAM} has no leader right now`);
  const span = spanOf(state.first_seq, state.last_seq);
  // Nothing is ever deleted from this stream (no limits, no purge but the repair's), so a hole is damage.
  if (deliveredUpTo <= state.last_seq && state.messages >= span) return null;
  return { firstSeq: state.first_seq, lastSeq: state.last_seq, messages: state.messages, deliveredUpTo, consumer };
}

/** What was found, in sentences for `/readyz`, the log and the refused request. */
export function describeLostEvents(lost: LostEvents): string[] {
  const problems: string[] = [];
  if (lost.deliveredUpTo > lost.lastSeq) {
    problems.push(
      `the NATS stream ${EVENTS_STREAM} ends at seq ${lost.lastSeq}, but consumer "${lost.consumer}" was already handed seq ${lost.deliveredUpTo}: ` +
        `${lost.deliveredUpTo - lost.lastSeq} acknowledged events are gone from the server's store`,
    );
    problems.push(`a new event would reuse seq ${lost.lastSeq + 1}, which the consumers would skip as one they already have`);
  }
  const span = spanOf(lost.firstSeq, lost.lastSeq);
  if (lost.messages < span) {
    problems.push(`the NATS stream ${EVENTS_STREAM} holds ${lost.messages} events between seq ${lost.firstSeq} and ${lost.lastSeq}: ${span - lost.messages} are missing from the middle`);
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
 * Keeps one connection's view of whether the stream is whole: checked when the connection opens and
 * each time it reconnects (a server may have come back with a damaged store), and again every few
 * seconds while damaged or while a check could not finish, so a repair is taken up without a restart.
 * Damage is declared only when two looks a second apart agree.
 */
export class StreamWatch {
  private lost: LostEvents | null = null;
  private unsure = false;
  private recheck: NodeJS.Timeout | null = null;

  constructor(private readonly logger: Logger) {}

  /** Checks now, then follows the connection's reconnects until it closes. A check that cannot finish does not hold the connection up. */
  async start(link: NatsLink): Promise<void> {
    await this.check(link);
    void this.followReconnects(link);
  }

  /** Throws when the stream is known to be damaged: nothing may be published or read as whole. */
  assertWhole(): void {
    if (this.lost) throw new StreamDamagedError(this.lost);
  }

  problem(): EngineProblem | null {
    return this.lost ? { status: 'damaged', problems: describeLostEvents(this.lost), action: `The operator must ${STREAM_REPAIR_ACTION}` } : null;
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

  private async check(link: NatsLink): Promise<void> {
    try {
      let lost = await findLostEvents(link.jsm);
      if (lost && !this.lost) {
        await new Promise((resolve) => setTimeout(resolve, CONFIRM_MS));
        lost = await findLostEvents(link.jsm);
      }
      if (lost && !this.lost) this.logger.error({ lost, action: STREAM_REPAIR_ACTION }, `the event log is damaged: ${describeLostEvents(lost).join('; ')}`);
      if (!lost && this.lost) this.logger.info({ was: this.lost }, 'the NATS stream is whole again');
      this.lost = lost;
      this.unsure = false;
    } catch (error) {
      // No verdict this time (no leader, a timeout): what was known stands until a look succeeds.
      if (!(error instanceof NoLeaderYet)) this.logger.warn({ err: error }, 'could not check the NATS stream; trying again');
      this.unsure = true;
    }
    if (this.lost || this.unsure) this.recheckSoon(link);
    else this.stop();
  }

  private recheckSoon(link: NatsLink): void {
    if (this.recheck) return;
    this.recheck = setInterval(() => void this.check(link), RECHECK_MS);
    this.recheck.unref();
  }
}
