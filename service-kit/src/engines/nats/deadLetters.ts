import type { Delivered } from '@blog/contracts';
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';
import type { NatsLink } from './connection';
import { DEAD_LETTER_STREAM, deadLetterSubjectOf } from './names';
import { parsedOrNull } from './reader';

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
  message: JsMsg;
  delivered: Delivered;
  attempts: number;
  reason: string;
}

/** Parks an event for a consumer; stored once even if two replicas park it (the id is the consumer's and the seq). */
export async function parkDeadLetter(link: NatsLink, { consumer, message, delivered, attempts, reason }: Parking): Promise<void> {
  const letter: StoredDeadLetter = {
    subscriber: consumer,
    seq: message.seq,
    id: delivered.context.id ?? '',
    type: delivered.event.type,
    attempts,
    lastError: reason,
    parkedAt: new Date().toISOString(),
    event: parsedOrNull(message.string()),
  };
  await link.js.publish(deadLetterSubjectOf(consumer), JSON.stringify(letter), { msgID: `${consumer}:${message.seq}` });
}

/** Every parked event, oldest first (the dead-letter stream is small: it holds only what failed). */
export async function listDeadLetters(link: NatsLink, timeoutMs: number): Promise<StoredDeadLetter[]> {
  const { state } = await link.jsm.streams.info(DEAD_LETTER_STREAM);
  if (state.messages === 0) return [];
  const ordered = await link.js.consumers.get(DEAD_LETTER_STREAM, { deliver_policy: DeliverPolicy.All });
  const letters: StoredDeadLetter[] = [];
  try {
    const messages = await ordered.fetch({ max_messages: state.messages, expires: timeoutMs });
    for await (const message of messages) {
      const letter = storedDeadLetterSchema.safeParse(parsedOrNull(message.string()));
      if (letter.success) letters.push(letter.data);
      if (message.seq >= state.last_seq) break;
    }
  } finally {
    await ordered.delete().catch(() => undefined);
  }
  return letters;
}
