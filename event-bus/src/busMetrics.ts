import { type ServiceMetrics } from '@blog/service-kit';
import { Counter, Gauge } from 'prom-client';
import type { DeliveryObserver, SubscriberStatus } from './delivery/deliveryStats';

const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];

/** The bus's own series, beside the HTTP ones every service has. */
export class BusMetrics implements DeliveryObserver {
  private readonly eventsStored: Counter;
  private readonly publishSeconds;
  private readonly commitSeconds;
  private readonly commitEvents;
  private readonly deliveries: Counter<'subscriber'>;
  private readonly eventsDelivered: Counter<'subscriber'>;
  private readonly failures: Counter<'subscriber'>;
  private readonly retries: Counter<'subscriber'>;
  private readonly deadLettered: Counter<'subscriber'>;

  constructor(metrics: ServiceMetrics, subscribers: () => SubscriberStatus[]) {
    const registers = [metrics.registry];
    this.eventsStored = new Counter({ name: 'bus_events_stored_total', help: 'Events appended to the log', registers });
    this.publishSeconds = metrics.histogram('bus_publish_duration_seconds', 'From a publish arriving to its events being stored (fsync included)');
    this.commitSeconds = metrics.histogram('bus_commit_duration_seconds', 'One SQLite commit of a group of appends, fsync included');
    this.commitEvents = metrics.histogram('bus_commit_events', 'Events stored by one commit (group commit batch size)', [], BATCH_BUCKETS);
    const perSubscriber = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['subscriber'] as const, registers });
    this.deliveries = perSubscriber('bus_subscriber_deliveries_total', 'Delivery requests a subscriber acknowledged');
    this.eventsDelivered = perSubscriber('bus_subscriber_events_delivered_total', 'Events a subscriber acknowledged');
    this.failures = perSubscriber('bus_subscriber_failures_total', 'Deliveries that failed (no answer, or not 2xx)');
    this.retries = perSubscriber('bus_subscriber_retries_total', 'Deliveries made again after a failure');
    this.deadLettered = perSubscriber('bus_subscriber_dead_lettered_total', 'Events parked as dead letters after repeated refusals');
    // Position and lag are read when scraped, so they are never stale.
    const gauge = (name: string, help: string, value: (status: SubscriberStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['subscriber'] as const,
        registers,
        collect() {
          this.reset();
          for (const status of subscribers()) this.set({ subscriber: status.url }, value(status));
        },
      });
    gauge('bus_subscriber_position', 'Last seq a subscriber has been given (or skipped as of no interest to it)', (s) => s.position);
    gauge('bus_subscriber_lag', 'Events in the log after the subscriber position', (s) => s.lag);
  }

  published(publishSeconds: number): void {
    this.publishSeconds.observe(publishSeconds);
  }

  /** Every commit, whether its events came in a publish or in a delivery's answer. */
  committed(events: number, commitSeconds: number): void {
    this.eventsStored.inc(events);
    this.commitSeconds.observe(commitSeconds);
    this.commitEvents.observe(events);
  }

  delivered(subscriber: string, events: number): void {
    this.deliveries.inc({ subscriber });
    this.eventsDelivered.inc({ subscriber }, events);
  }

  failed(subscriber: string): void {
    this.failures.inc({ subscriber });
  }

  retried(subscriber: string): void {
    this.retries.inc({ subscriber });
  }

  parked(subscriber: string): void {
    this.deadLettered.inc({ subscriber });
  }
}
