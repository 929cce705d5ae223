import type { Lifecycle } from '@blog/service-kit';
import { Router } from 'express';
import type { QueryStore, ViewChange } from '../store/queryStore';

/** Keeps idle connections (and proxies in between) from timing the stream out. */
const HEARTBEAT_MS = 15_000;

export function queryRoutes(store: QueryStore, lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/posts', (_req, res) => {
    res.json(store.toRecord());
  });

  // Server-sent events: every change to the view as it happens, so a page (or the benchmark) sees a
  // comment's verdict the moment query applies it, without polling the whole view.
  router.get('/updates', (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    const send = (change: ViewChange) => res.write(`event: ${change.kind}\ndata: ${JSON.stringify(change)}\n\n`);
    const stop = store.onChange(send);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const stopOnDrain = lifecycle.onDrain(() => res.end());
    req.on('close', () => {
      clearInterval(heartbeat);
      stop();
      stopOnDrain();
    });
  });
  return router;
}
