import { setTimeout as sleep } from 'node:timers/promises';
import { EngineOutcomeUnknownError, EngineUnavailableError, type Envelope } from '@blog/contracts';
import { NoRespondersError, PermissionViolationError } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { NatsConnector, NatsLink } from './connection';
import { subjectOf } from './names';
import { TurnBatch } from '../turnBatch';

export interface StoredReceipt {
  id: string;
  seq: number;
  /** The stream already held an event with this id (within its dedupe window). */
  duplicate: boolean;
}


/** How long a publish waits for a client that lost its server to find another, before answering 503. */
const OFFLINE_WAIT_MS = 1_000;

/** A one-line reason for a failed call to NATS. */
export function describeNatsFailure(error: unknown): string {
  if (error instanceof EngineUnavailableError || error instanceof EngineOutcomeUnknownError) return error.reason;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * The stream answered and refused the event: too big, or a subject no stream takes. Retrying cannot
 * help. A 503 from JetStream (no leader yet, after a server died) is the opposite: try again.
 */
function refusedByStream(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.status !== 503;
}

/** The server refused the subject to this connection's user (its permissions): nothing was stored, and no retry can change that. */
export function isPermissionViolation(error: unknown): boolean {
  return error instanceof PermissionViolationError || (error instanceof Error && error.cause instanceof PermissionViolationError);
}

/**
 * Publishes envelopes to the events stream, each with its id as `Nats-Msg-Id`, so a retry of a publish
 * that did land is stored once. Retries for up to `waitMs` (a cluster elects a new stream leader in a few
 * seconds after one dies), then fails with 503 if the event surely never reached a server, or 504 if it
 * may have been stored.
 */
export class NatsPublisher {
  /**
   * Publishes made in one turn of the event loop are written to the connection together: the client
   * flushes its buffer once for all of them instead of once each (a system call per event showed in the
   * profiles). Each still gets its own acknowledgement, and its own retries.
   */
  private readonly outbox = new TurnBatch<Envelope, StoredReceipt>((queued) => {
    for (const { item, resolve, reject } of queued) this.publishWithRetries(item).then(resolve, reject);
  });

  constructor(
    private readonly connector: NatsConnector,
    private readonly waitMs: number,
  ) {}

  publish(envelope: Envelope): Promise<StoredReceipt> {
    return this.outbox.add(envelope);
  }

  private async publishWithRetries(envelope: Envelope): Promise<StoredReceipt> {
    const payload = JSON.stringify(envelope);
    const deadline = Date.now() + this.waitMs;
    let lastFailure = 'no attempt made';
    let handedOver = false;
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) {
        if (Date.now() >= deadline) break;
        await sleep(Math.min(50 * 2 ** (attempt - 1), 1000));
      }
      let link: NatsLink;
      try {
        // When connected, the first attempt writes before any await, so the batch's writes share one flush.
        link = this.connector.current() ?? (await this.connector.connected());
      } catch (error) {
        lastFailure = `NATS unreachable (${describeNatsFailure(error)})`;
        break;
      }
      // Without a server nothing is sent (the client would hold it and send it later, unasked): a
      // moment for the client to find another, then the answer.
      if (!this.connector.online && !(await this.connector.untilOnline(OFFLINE_WAIT_MS))) {
        lastFailure = 'NATS unreachable: the client has lost its server and found no other';
        break;
      }
      const furthestBefore = this.connector.furthestSeen();
      let ack;
      try {
        ack = await link.js.publish(subjectOf(envelope.type), payload, { msgID: envelope.id });
      } catch (error) {
        if (refusedByStream(error)) throw new Error(`the events stream refused ${envelope.type}: ${describeNatsFailure(error)}`);
        if (isPermissionViolation(error)) throw new EngineUnavailableError(`NATS does not let this service publish ${envelope.type} (${describeNatsFailure(error)})`);
        lastFailure = describeNatsFailure(error);
        // Nobody listening means no stream took it; anything else (a timeout, a lost connection) may have stored it.
        if (!nothingStored(error)) handedOver = true;
        continue;
      }
      this.connector.receipt(ack.seq, ack.duplicate, furthestBefore);
      return { id: envelope.id, seq: ack.seq, duplicate: ack.duplicate };
    }
    if (handedOver) throw new EngineOutcomeUnknownError(lastFailure);
    throw new EngineUnavailableError(lastFailure);
  }
}

/**
 * No stream answered (no responders: the client reports it as JetStreamNotEnabled, a class it does not
 * export, hence the name) or the stream said no: the event is surely not stored.
 */
function nothingStored(error: unknown): boolean {
  return error instanceof NoRespondersError || error instanceof JetStreamApiError || (error instanceof Error && error.name === 'JetStreamNotEnabled');
}
