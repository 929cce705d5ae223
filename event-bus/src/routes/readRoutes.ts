import { AppError, parseOrThrow } from '@blog/service-kit';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { BusBackend } from '../views';

export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 10_000;

const pageQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  })
  .strict();

/** The whole log, page by page, so even a long log never sits in memory at once. */
async function streamWholeLog(log: Pick<BusBackend, 'readAfter'>, res: Response): Promise<void> {
  // The first page is read before the answer starts, so a log that cannot be read gets a clear 503.
  let rows = await readOrRefuse(log, 0, MAX_PAGE);
  res.type('application/json');
  res.write('[');
  let after = 0;
  let first = true;
  for (let page = 0; ; page += 1) {
    if (page > 0) {
      try {
        rows = await log.readAfter(after, MAX_PAGE);
      } catch {
        // Half an array is already sent: ending it cleanly would pass for the whole log.
        res.destroy();
        return;
      }
    }
    if (rows.length === 0) break;
    const chunk = rows.map((row) => row.body).join(',');
    const writable = res.write(first ? chunk : `,${chunk}`);
    first = false;
    after = rows[rows.length - 1]!.seq;
    if (!writable) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end(']');
}

/** A read the storage failed (damage, an I/O error): a 503 that points at /readyz, never a 500. */
async function readOrRefuse(backend: Pick<BusBackend, 'readAfter'>, after: number, limit: number) {
  try {
    return await backend.readAfter(after, limit);
  } catch {
    throw new AppError(503, 'the event log cannot be read right now; GET /readyz says why');
  }
}

export function readRoutes(backend: BusBackend): Router {
  const router = Router();
  router.get('/events', async (req, res) => {
    // No query: the whole log as one array, as the course's bus answers.
    if (Object.keys(req.query).length === 0) {
      await streamWholeLog(backend, res);
      return;
    }
    const { after, limit } = parseOrThrow(pageQuery, req.query, 'query');
    const rows = await readOrRefuse(backend, after, limit);
    res.type('application/json').send(`[${rows.map((row) => row.body).join(',')}]`);
  });
  // Where the log ends, in one small read: how a service tells whether it keeps up (FeedWatch).
  router.get('/events/end', async (_req, res) => {
    let lastSeq: number;
    try {
      lastSeq = await backend.logEnd();
    } catch {
      throw new AppError(503, 'the event log cannot be read right now; GET /readyz says why');
    }
    res.json({ lastSeq });
  });
  router.get('/subscribers', async (_req, res) => {
    res.json(await backend.subscribers());
  });
  return router;
}
