import { AppError } from '@blog/service-kit';
import { Router } from 'express';
import { DAMAGE_CODE } from '../store/sqlite/damage';

/** What the bus answers while its log cannot be opened: every call that needs the log gets a 503. */
export function unavailableRoutes(reason: () => string): Router {
  const router = Router();
  router.all(['/events', '/subscribers', '/dead-letters', '/dead-letters/retry'], () => {
    throw new AppError(503, `the event log is unavailable (${reason()}); nothing was stored, try again later`);
  });
  return router;
}

/** A reason a user can act on, without the internal paths a raw error message would carry. */
export function describeOpenFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || /readonly|unable to open|permission/i.test(message)) {
    return 'its folder (DATA_DIR) is not writable by this user';
  }
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || /disk is full|no space/i.test(message)) return 'the disk is full';
  if (code === DAMAGE_CODE) return 'it is damaged; GET /readyz says what is wrong and how to repair it';
  return 'it cannot be opened; see the bus log';
}
