/**
 * What the bus answers about its subscribers' troubles, as both engines and every reader of it (the
 * client server's flow page among them) see it.
 */

/** An event a subscriber kept refusing, set aside so the rest of the log could flow to it (GET /dead-letters). */
export interface DeadLetter {
  subscriber: string;
  seq: number;
  id: string;
  type: string;
  attempts: number;
  lastError: string;
  parkedAt: string;
}
