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
export function createSubscriberApp(options: SubscriberAppOptions): RequestListener {
  // Named one by one: services pass their whole deps object, and the endpoint should hold only what it uses.
  const { lifecycle, logger, types, handle, bus, follower, security, routers } = options;
  return createServiceApp({
    lifecycle,
    logger,
    security,
    routers,
    busPaths: ['/events'],
    events: eventsEndpoint({ lifecycle, logger, types, handle, bus, onDelivered: follower ? (seq) => follower.noteDelivered(seq) : undefined }),
  });
}
