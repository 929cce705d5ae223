import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface RecordedEvent {
  seq: number;
  id: string;
  type: string;
  data: unknown;
}

export interface SubscriberOptions {
  /** Answer this many deliveries first with `failStatus`, as a crashed or overloaded service would. */
  failures?: number;
  failStatus?: number;
  /** What it answers the bus's question about which event types it handles. */
  types?: string[];
  /** A poison event: any delivery containing an event this picks is answered 500, every time. */
  refuses?: (event: RecordedEvent) => boolean;
  /** The body of its 2xx answer to a delivery (default `{ok: true}`), e.g. follow-up events to publish. */
  answer?: (batch: RecordedEvent[]) => unknown;
}

/** A subscriber on a loopback port that records every event it acknowledges, and the headers it was sent. */
export async function startSubscriber({ failures = 0, failStatus = 500, types, refuses, answer = () => ({ ok: true }) }: SubscriberOptions = {}) {
  const received: RecordedEvent[] = [];
  const authorizations: (string | undefined)[] = [];
  const followUpHeaders: (string | undefined)[] = [];
  let deliveries = 0;
  let failuresLeft = failures;
  let refusing = refuses;
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  // A subscriber that declares its event types, as the blog's services do; without `types`, a course-style one.
  if (types) app.get('/events', (_req, res) => res.json({ types }));
  app.post('/events', (req, res) => {
    deliveries += 1;
    authorizations.push(req.headers.authorization);
    followUpHeaders.push(req.get('x-follow-ups'));
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      res.status(failStatus).json({ error: 'failing on purpose' });
      return;
    }
    const batch: RecordedEvent[] = Array.isArray(req.body) ? req.body : [req.body];
    if (refusing && batch.some(refusing)) {
      res.status(500).json({ error: 'this event breaks the handler' });
      return;
    }
    received.push(...batch);
    res.json(answer(batch));
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    received,
    authorizations,
    followUpHeaders,
    /** The handler is fixed: it stops refusing. */
    stopRefusing() {
      refusing = undefined;
    },
    get deliveries() {
      return deliveries;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on which nothing listens: a subscriber that is down. */
export async function deadSubscriberUrl(): Promise<string> {
  const server: Server = await new Promise((resolve) => {
    const s = express().listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/events`;
}
