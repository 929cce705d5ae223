import { setTimeout as sleep } from 'node:timers/promises';
import { EngineUnavailableError, READ_PAGE_MAX_BYTES, parsedOrNull } from '@blog/contracts';
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { NatsLink } from './connection';
import { EVENTS_STREAM, typeOfSubject } from './names';

/** Most messages one read asks the server for. */
const FETCH_MAX_MESSAGES = 1_000;

/** How many times an ordered read is tried when its pull finds no responder. */
const NO_RESPONDER_ATTEMPTS = 4;

/**
 * Runs `read` (a fetch through a just-made ordered consumer) again when its pull finds no responder.
 * In a cluster the consumer's creation is answered before every server routes its pull subject, so the
 * first pull can bounce (nats.js 3.3.1 ends a fetch on that 503, where a consume would reset and go on).
 */
export async function retryingNoResponders<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!isNoResponders(error) || attempt >= NO_RESPONDER_ATTEMPTS) throw error;
      await sleep(50 * 2 ** attempt);
    }
  }
}

/** The client's JetStreamStatusError for a 503 (its class is not exported, so it is told by name). */
function isNoResponders(error: unknown): boolean {
  return error instanceof Error && error.name === 'JetStreamStatusError' && (error as { code?: unknown }).code === 503;
}

/** One stored event as the stream holds it: its position, its type, and its JSON with `seq` added. */
export interface StreamRow {
  seq: number;
  type: string;
  body: string;
}

/** The stored envelope with its stream position, as the embedded bus's log serves it. */
export function rowOf(message: JsMsg): StreamRow {
  const text = message.string();
  // The envelope is stored as published; its seq is the stream's, so it is added on the way out.
  const body = text.endsWith('}') ? `${text.slice(0, -1)},"seq":${message.seq}}` : text;
  return { seq: message.seq, type: typeOfSubject(message.subject), body };
}

/**
 * Up to `limit` messages after position `after` (and about READ_PAGE_MAX_BYTES at most), in order, each
 * as `take` makes it. Asks the stream how far it goes first, so a read at the end answers at once instead
 * of waiting for messages that are not there; then reads them with a short-lived ordered consumer. A page
 * may come back short (its bytes, a read that timed out): the caller reads on from its last seq. It comes
 * back empty only when the stream holds nothing after `after` (it holds no message at all after a
 * repair that kept nothing; its end is still the last seq handed out); a read that got nothing in time fails instead.
 */
export async function readMessagesAfter<T>(link: NatsLink, after: number, limit: number, timeoutMs: number, take: (message: JsMsg) => T): Promise<T[]> {
  const { state } = await link.jsm.streams.info(EVENTS_STREAM);
  const available = Math.min(limit, state.last_seq - after);
  if (available <= 0 || state.messages === 0) return [];
  const taken = await retryingNoResponders(async () => {
    const consumer = await link.js.consumers.get(EVENTS_STREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(after + 1, state.first_seq),
    });
    const page: T[] = [];
    let bytes = 0;
    try {
      // By count: the client (nats.js 3.3.1) fetches by bytes only 100 messages at a time. The page is cut
      // by its bytes as it is read; what was fetched past the cut goes with the consumer.
      const messages = await consumer.fetch({ max_messages: Math.min(available, FETCH_MAX_MESSAGES), expires: timeoutMs });
      for await (const message of messages) {
        bytes += message.data.length;
        if (bytes > READ_PAGE_MAX_BYTES && page.length > 0) break;
        page.push(take(message));
        if (message.seq >= state.last_seq || page.length >= available) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return page;
  });
  // The stream's leader said it holds every seq up to one past `after` (nothing ever deletes from it; a
  // repair moves what it keeps past what was lost): a read that got none of them timed out. Only a
  // damaged stream, with holes, may truly hold nothing further on (what the repair reads). (Not a direct
  // get to tell: any replica answers those, and a follower still catching up answers "none".)
  const whole = state.messages >= state.last_seq - Math.max(state.first_seq, 1) + 1;
  if (taken.length === 0 && whole) throw new EngineUnavailableError(`no event came within ${timeoutMs} ms of asking for those after seq ${after}`, 'cannot read the event log');
  return taken;
}

/** Up to `limit` events after position `after`, in order, as the embedded bus's log serves them. */
export function readAfter(link: NatsLink, after: number, limit: number, timeoutMs: number): Promise<StreamRow[]> {
  return readMessagesAfter(link, after, limit, timeoutMs, rowOf);
}

/**
 * The event a message carries, as long as its body agrees with its subject. NATS lets each service
 * publish only on the subjects of its own event types (permissions.ts), so the subject, not the body,
 * says what the event is and who sent it: a body that names another type is a forgery (a service
 * publishing another's event on a subject of its own), refused wherever it is read.
 */
export function eventOfMessage(subject: string, text: string): { stored: unknown } | { refused: string } {
  const stored = parsedOrNull(text);
  const type = typeOfSubject(subject);
  const claimed = typeof stored === 'object' && stored !== null ? (stored as { type?: unknown }).type : undefined;
  if (claimed !== type) return { refused: `its body says ${JSON.stringify(claimed ?? null)} but it was published on ${subject}, where only a ${type} may be` };
  return { stored };
}

