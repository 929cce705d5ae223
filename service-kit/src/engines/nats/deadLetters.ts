import { DeliverPolicy } from '@nats-io/jetstream';
import { z } from 'zod';
import type { NatsLink } from './connection';
import { DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, deadLetterSubjectOf, retrySubjectOf } from './names';
import { parsedOrNull } from '@blog/contracts';
import { retryingNoResponders } from './reader';

/** A parked event in the dead-letter stream: what GET /dead-letters lists, and the event itself. */
export const storedDeadLetterSchema = z.object({
  subscriber: z.string(),
  seq: z.number().int().positive(),
  id: z.string(),
  type: z.string(),
  attempts: z.number().int(),
  lastError: z.string(),
  parkedAt: z.string(),
  event: z.unknown(),
});

export type StoredDeadLetter = z.infer<typeof storedDeadLetterSchema>;

export interface Parking {
  consumer: string;
  /** The event as stored in the events stream, and its seq there. */
  event: unknown;
  seq: number;
  id: string;
  type: string;
  attempts: number;
  reason: string;
  /** Stores this parking once, whichever replica or retry attempt makes it. */
  parkingId: string;
}

/** Parks an event for a consumer in the dead-letter stream. */
export async function parkDeadLetter(link: NatsLink, parking: Parking): Promise<void> {
  const letter: StoredDeadLetter = {
    subscriber: parking.consumer,
    seq: parking.seq,
    id: parking.id,
    type: parking.type,
    attempts: parking.attempts,
    lastError: parking.reason,
    parkedAt: new Date().toISOString(),
    event: parking.event,
  };
  await link.js.publish(deadLetterSubjectOf(parking.consumer), JSON.stringify(letter), { msgID: parking.parkingId });
}

/** A parked letter and where it sits in the dead-letter stream (to remove it when it is sent back). */
interface Parked {
  letter: StoredDeadLetter;
  streamSeq: number;
}

/** Every event still parked, oldest first (the stream is small: it holds only what failed). */
async function parked(link: NatsLink, timeoutMs: number): Promise<Parked[]> {
  const info = await link.jsm.streams.info(DEAD_LETTER_STREAM, { subjects_filter: DEAD_LETTER_SUBJECTS });
  const count = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  if (count === 0) return [];
  return retryingNoResponders(async () => {
    const ordered = await link.js.consumers.get(DEAD_LETTER_STREAM, { filter_subjects: DEAD_LETTER_SUBJECTS, deliver_policy: DeliverPolicy.All });
    const found: Parked[] = [];
    try {
      const messages = await ordered.fetch({ max_messages: count, expires: timeoutMs });
      for await (const message of messages) {
        const letter = storedDeadLetterSchema.safeParse(parsedOrNull(message.string()));
        if (letter.success) found.push({ letter: letter.data, streamSeq: message.seq });
        if (message.info.pending === 0) break;
      }
    } finally {
      await ordered.delete().catch(() => undefined);
    }
    return found;
  });
}

export async function listDeadLetters(link: NatsLink, timeoutMs: number): Promise<StoredDeadLetter[]> {
  return (await parked(link, timeoutMs)).map(({ letter }) => letter);
}

/**
 * Sends parked events back to their consumer: each goes to that consumer's retry subject, which its
 * replicas read like live events, and leaves the parked list. Answers how many were sent back.
 */
export async function retryDeadLetters(link: NatsLink, filter: { subscriber?: string; seq?: number }, timeoutMs: number): Promise<number> {
  const chosen = (await parked(link, timeoutMs)).filter(
    ({ letter }) => (filter.subscriber === undefined || letter.subscriber === filter.subscriber) && (filter.seq === undefined || letter.seq === filter.seq),
  );
  for (const { letter, streamSeq } of chosen) {
    await link.js.publish(retrySubjectOf(letter.subscriber), JSON.stringify(letter), { msgID: `retry:${streamSeq}` });
    await link.jsm.streams.deleteMessage(DEAD_LETTER_STREAM, streamSeq);
  }
  return chosen.length;
}
