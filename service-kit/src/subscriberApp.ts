import type { EventEngine } from '@blog/contracts';
import { Router } from 'express';
import type { RequestListener } from 'node:http';
import { createServiceApp } from './app';
import { deliveryEndpoint, interestRoute } from './eventEndpoint';
import { readsAfterCatchUp, type Lifecycle } from './operations';
import type { Logger } from './logger';
import type { EventReceiver } from './receiver';
import type { SecurityOptions } from './guards';

export interface SubscriberAppOptions {
  engine: EventEngine;
  receiver: EventReceiver;
  lifecycle: Lifecycle;
  logger: Logger;
  /** Bus token and CORS origins; none in tests that do not need them. */
  security?: SecurityOptions;
  /** The service's own API, beside its event endpoint and the health routes. */
  routers?: Router[];
  /** The service's name, for the answer its reads give until it has caught up with the log. */
  name?: string;
}

/** A service that takes events in: its own routes, and `/events` (bus token required) when its engine pushes them. */
export function createSubscriberApp({ engine, receiver, lifecycle, logger, security, routers = [], name = 'this service' }: SubscriberAppOptions): RequestListener {
  const pushed = engine.delivery === 'push';
  const gate = Router().use(readsAfterCatchUp(lifecycle, name));
  return createServiceApp({
    lifecycle,
    logger,
    security,
    routers: receiver.replays ? [gate, ...routers] : routers,
    busPaths: pushed ? ['/events'] : [],
    busRouters: pushed ? [interestRoute(receiver)] : [],
    events: pushed ? deliveryEndpoint(receiver, engine) : undefined,
  });
}
