import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface RecordedEvent {
  seq: number;
  id: string;
  type: string;
  data: unknown;
}

/**
 * A subscriber on a loopback port that records every event it acknowledges. `failures` makes it answer
 * 500 to that many deliveries first, as a crashed or overloaded service would; `types`, if given, is what
 * it answers the bus's question about which event types it handles.
 */
export async function startSubscriber({ failures = 0, types }: { failures?: number; types?: string[] } = {}) {
  const received: RecordedEvent[] = [];
  let deliveries = 0;
  let failuresLeft = failures;
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  // A subscriber that declares its event types, as the blog's services do; without `types`, a course-style one.
  if (types) app.get('/events', (_req, res) => res.json({ types }));
  app.post('/events', (req, res) => {
    deliveries += 1;
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      res.status(500).json({ error: 'failing on purpose' });
      return;
    }
    const batch: RecordedEvent[] = Array.isArray(req.body) ? req.body : [req.body];
    received.push(...batch);
    res.json({ ok: true });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    received,
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
