import { parseOrThrow } from '@blog/service-kit';
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
  res.type('application/json');
  res.write('[');
  let after = 0;
  let first = true;
  for (;;) {
    const rows = await log.readAfter(after, MAX_PAGE);
    if (rows.length === 0) break;
    const chunk = rows.map((row) => row.body).join(',');
    const writable = res.write(first ? chunk : `,${chunk}`);
    first = false;
    after = rows[rows.length - 1]!.seq;
    if (!writable) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end(']');
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
    const rows = await backend.readAfter(after, limit);
    res.type('application/json').send(`[${rows.map((row) => row.body).join(',')}]`);
  });
  router.get('/subscribers', async (_req, res) => {
    res.json(await backend.subscribers());
  });
  return router;
}
