import { createHmac } from 'node:crypto';

/**
 * Seals the ids of the events a service derives (a verdict's id from its comment's, an update's from
 * its verdict's) with the service's own secret: HMAC-SHA256 of the public derivation, shaped as a UUID
 * (version 8, "custom"). Its replicas share the secret, so they derive the same id and the log stores
 * the event once. No other caller can compute it, so none can publish first under that id and have the
 * real event dropped as a repeat (NATS JetStream deduplicates by id across the whole stream). Without a
 * secret (no credentials, as under `npm start`) ids stay as derived: there is no identity to protect.
 */
export function idSealer(secret: string | undefined): (id: string) => string {
  if (!secret) return (id) => id;
  return (id) => {
    const digest = createHmac('sha256', secret).update(id).digest();
    digest[6] = (digest[6]! & 0x0f) | 0x80;
    digest[8] = (digest[8]! & 0x3f) | 0x80;
    const hex = digest.subarray(0, 16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
