import fs from 'node:fs';
import path from 'node:path';
import { rangesOf, type SeqRange } from '@blog/contracts';
import { DeliverPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import type { NatsLink } from './connection';
import { EVENTS_STREAM } from './names';
import { readMessagesAfter } from './reader';
import { describeLostEvents, findLostEvents } from './streamCheck';

export type StreamRepairReport =
  | { outcome: 'sound' }
  | {
      outcome: 'repaired';
      problems: string[];
      /** Seqs the stream had handed out and no longer holds: gone for good, never to be reused. */
      lost: SeqRange[];
      lostCount: number;
      /** The events the stream still held, moved in their order past every seq already handed out. */
      kept: number;
      movedFrom: SeqRange | null;
      movedTo: SeqRange | null;
      /** Where each durable consumer now starts: at the first moved event, so each is handled again. */
      consumers: { name: string; startsAt: number }[];
      /** A copy of the kept events, written before anything was changed. */
      savedTo: string;
      nextSeq: number;
    };

/** Messages read at once while saving what the stream holds. */
const HELD_PAGE = 1000;

interface HeldMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** Every message the stream holds, in order, a page at a time. */
async function heldMessages(link: NatsLink, timeoutMs: number): Promise<HeldMessage[]> {
  const held: HeldMessage[] = [];
  for (;;) {
    const page = await readMessagesAfter(link, held.at(-1)?.seq ?? 0, HELD_PAGE, timeoutMs, (message) => ({ seq: message.seq, subject: message.subject, data: message.data }));
    if (page.length === 0) return held;
    held.push(...page);
  }
}

/** Writes a copy of held messages, one JSON line each, into `saveDir`; answers the file. */
function saveHeld(held: HeldMessage[], saveDir: string): string {
  fs.mkdirSync(saveDir, { recursive: true });
  const savedTo = path.join(saveDir, `nats-stream-kept-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  fs.writeFileSync(savedTo, held.map((message) => JSON.stringify({ seq: message.seq, subject: message.subject, event: Buffer.from(message.data).toString('utf8') })).join('\n') + '\n');
  return savedTo;
}

/** A copy of every event the stream holds, saved into `saveDir` (what a store deleted under its server keeps only in memory). */
export async function saveStream(link: NatsLink, saveDir: string, timeoutMs: number): Promise<{ kept: number; savedTo: string }> {
  const held = await heldMessages(link, timeoutMs);
  return { kept: held.length, savedTo: saveHeld(held, saveDir) };
}

/**
 * Mends the events stream after a server came back with acknowledged events missing from its store:
 * saves what it still holds to `saveDir`, purges it so that the next seq is past every seq a consumer
 * was ever handed (none is reused), publishes the kept events again in their order, and sets each
 * durable consumer to start at the first of them, so a follow-up that was lost is made again. The lost events cannot be listed beyond their seqs: their contents
 * went with the store. Run it while nothing publishes (the services refuse to while the stream is damaged).
 */
export async function repairStream(link: NatsLink, saveDir: string, timeoutMs: number): Promise<StreamRepairReport> {
  const found = await findLostEvents(link.jsm);
  if (!found) return { outcome: 'sound' };
  const held = await heldMessages(link, timeoutMs);
  const end = Math.max(found.deliveredUpTo, found.lastSeq);
  const heldSeqs = new Set(held.map((message) => message.seq));
  const lostSeqs: number[] = [];
  for (let seq = Math.max(found.firstSeq, 1); seq <= end; seq += 1) if (!heldSeqs.has(seq)) lostSeqs.push(seq);
  const lost = rangesOf(lostSeqs);

  const savedTo = saveHeld(held, saveDir);

  const durables: { config: ConsumerConfig }[] = [];
  for await (const info of link.jsm.consumers.list(EVENTS_STREAM)) {
    if (info.config.durable_name) durables.push({ config: info.config });
  }

  await link.jsm.streams.purge(EVENTS_STREAM, { seq: end + 1 });
  // Each durable consumer handles every kept event again: what it published in answer may be among the
  // lost (a comment's verdict), and its handlers are idempotent, so doing one twice costs a repeat at most.
  const startsAt = end + 1;
  const consumers: { name: string; startsAt: number }[] = [];
  for (const { config } of durables) {
    await link.jsm.consumers.delete(EVENTS_STREAM, config.durable_name!);
    await link.jsm.consumers.add(EVENTS_STREAM, { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startsAt });
    consumers.push({ name: config.durable_name!, startsAt });
  }
  for (const [index, message] of held.entries()) {
    // A fresh message id: the old ones may still sit in the stream's dedupe window.
    await link.js.publish(message.subject, message.data, { msgID: `repair-${end}-${index}` });
  }

  return {
    outcome: 'repaired',
    problems: describeLostEvents(found),
    lost,
    lostCount: lost.reduce((sum, range) => sum + range.last - range.first + 1, 0),
    kept: held.length,
    movedFrom: held.length > 0 ? { first: held[0]!.seq, last: held.at(-1)!.seq } : null,
    movedTo: held.length > 0 ? { first: end + 1, last: end + held.length } : null,
    consumers,
    savedTo,
    nextSeq: end + held.length + 1,
  };
}
