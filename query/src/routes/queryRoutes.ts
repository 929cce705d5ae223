import type { Lifecycle } from '@blog/service-kit';
import { Router } from 'express';
import type { QueryStore, ViewChange } from '../store/queryStore';
import { LiveReaders } from './liveReaders';

/** Keeps idle connections (and proxies in between) from timing the stream out. */
const HEARTBEAT_MS = 15_000;

/** Every reader gets the same text for one change, so it is built once, not once per reader. */
function serializer(): (change: ViewChange) => string {
  let last: ViewChange | null = null;
  let text = '';
  return (change) => {
    if (change !== last) {
      last = change;
      text = `event: ${change.kind}\ndata: ${JSON.stringify(change)}\n\n`;
    }
    return text;
  };
}

export function queryRoutes(store: QueryStore, lifecycle: Lifecycle, readers = new LiveReaders()): Router {
  const router = Router();
  const textOf = serializer();
  router.get('/posts', (_req, res) => {
    res.json(store.toRecord());
  });

  // Server-sent events: every change to the view as it happens, so a page (or the benchmark) sees a
  // comment's verdict the moment query applies it, without polling the whole view.
  router.get('/updates', (_req, res) => {
    if (!readers.admit()) {
      res.setHeader('retry-after', '5');
      res.status(503).json({ error: 'too many live readers; poll GET /posts instead, or try again later', details: [] });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    const stop = store.onChange((change) => readers.write(res, textOf(change)));
    const heartbeat = setInterval(() => readers.write(res, ': heartbeat\n\n'), HEARTBEAT_MS);
    const stopOnDrain = lifecycle.onDrain(() => res.end());
    res.on('close', () => {
      readers.leave();
      clearInterval(heartbeat);
      stop();
      stopOnDrain();
    });
  });
  return router;
}
