import type { Router } from 'express';
import type { RequestListener } from 'node:http';
import { createServiceApp } from './app';
import type { LogFollower } from './follower';
import { eventsEndpoint, type EventsEndpointOptions } from './receiver';
import type { SecurityOptions } from './security';

export interface SubscriberAppOptions extends Omit<EventsEndpointOptions, 'onDelivered'> {
  /** The service's log follower, told of every delivered position (services that replay the log). */
  follower?: LogFollower;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
  /** The service's own API, beside its event endpoint and the health routes. */
  routers?: Router[];
}

/** A service that receives events from the bus: its `POST /events` (bus token required) and its own routes. */
export function createSubscriberApp({ follower, security, routers, ...endpoint }: SubscriberAppOptions): RequestListener {
  return createServiceApp({
    lifecycle: endpoint.lifecycle,
    logger: endpoint.logger,
    security,
    routers,
    busPaths: ['/events'],
    events: eventsEndpoint({ ...endpoint, onDelivered: follower ? (seq) => follower.noteDelivered(seq) : undefined }),
  });
}
