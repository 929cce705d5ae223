import { OPERATOR } from '@blog/contracts';
import { API_BODY_LIMIT_BYTES } from '@blog/contracts';
import { forbidden, jsonBody, parseOrThrow, type Caller } from '@blog/service-kit';
import { Router } from 'express';
import { z } from 'zod';
import type { BusBackend } from '../views';

/** Which parked events to try again: `{}` means all of them. */
const retryRequest = z
  .object({
    subscriber: z.string().min(1).optional(),
    seq: z.number().int().positive().optional(),
  })
  .strict();


/**
 * Events a subscriber refused too often are parked so they do not hold back the rest. They stay
 * listed here until someone fixes the cause and asks for them to be delivered again.
 */
export function deadLetterRoutes(backend: BusBackend): Router {
  const router = Router();
  router.get('/dead-letters', async (_req, res) => {
    res.json(await backend.deadLetters());
  });
  router.post('/dead-letters/retry', jsonBody(API_BODY_LIMIT_BYTES), async (req, res) => {
    const caller = res.locals.caller as Caller | undefined;
    if (caller?.name != null && caller.name !== OPERATOR) {
      throw forbidden(`${caller.name} may not retry dead letters; that takes the ${OPERATOR} credential (BUS_CREDENTIALS)`);
    }
    const filter = parseOrThrow(retryRequest, req.body, 'retry request');
    const retrying = await backend.retryDeadLetters(filter);
    res.status(202).json({ retrying });
  });
  return router;
}
