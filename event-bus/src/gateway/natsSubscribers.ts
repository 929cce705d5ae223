import { natsNames, type NatsLink } from '@blog/service-kit';
import type { SubscriberStatus } from '../delivery/deliveryStats';

/** Parked events per consumer, from the dead-letter stream's subject counts. */
async function parkedCounts(link: NatsLink): Promise<Map<string, number>> {
  const info = await link.jsm.streams.info(natsNames.DEAD_LETTER_STREAM, { subjects_filter: natsNames.DEAD_LETTER_SUBJECTS });
  const counts = new Map<string, number>();
  for (const [subject, count] of Object.entries(info.state.subjects ?? {})) counts.set(subject.slice(subject.lastIndexOf('.') + 1), count);
  return counts;
}

/**
 * GET /subscribers in the NATS engine: one entry per durable consumer (a service's shared side effects).
 * Position is the ack floor (every event up to it is handled), or the end of the stream once nothing is
 * pending; lag is what is still pending or unacknowledged. The replicas' own ordered consumers keep no
 * state on the server worth showing, so they are left out.
 */
export async function natsSubscribers(link: NatsLink): Promise<SubscriberStatus[]> {
  const [{ state }, parked] = await Promise.all([link.jsm.streams.info(natsNames.EVENTS_STREAM), parkedCounts(link)]);
  const statuses: SubscriberStatus[] = [];
  for await (const consumer of link.jsm.consumers.list(natsNames.EVENTS_STREAM)) {
    const name = consumer.config.durable_name;
    if (!name) continue;
    const lag = consumer.num_pending + consumer.num_ack_pending;
    const filter = consumer.config.filter_subject;
    statuses.push({
      name,
      engine: 'nats',
      url: name,
      position: lag === 0 ? state.last_seq : consumer.ack_floor.stream_seq,
      lag,
      consecutiveFailures: 0,
      deliveries: consumer.delivered.consumer_seq,
      eventsDelivered: consumer.ack_floor.consumer_seq,
      failures: consumer.num_redelivered,
      lastError: null,
      lastSuccessAt: null,
      types: filter && filter !== natsNames.EVENTS_SUBJECTS ? [natsNames.typeOfSubject(filter)] : null,
      deadLettered: parked.get(name) ?? 0,
    });
  }
  return statuses.sort((a, b) => a.url.localeCompare(b.url));
}
