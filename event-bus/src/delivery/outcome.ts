/**
 * How a delivery ended. `refused`: the subscriber answered and said no to these events (400, 413, 422,
 * 500 ...), which repeats for the same event; `unreachable`: no answer, or one that is about the
 * subscriber rather than the event (see batchSender.ts), which must never park the whole log. Only
 * refusals count towards parking.
 */
export type Outcome = { kind: 'delivered' } | { kind: 'refused'; reason: string } | { kind: 'unreachable'; reason: string };

export const DELIVERED: Outcome = { kind: 'delivered' };

