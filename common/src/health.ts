import { Router } from 'express';

/**
 * Liveness and readiness of one process. Alive means the process answers; ready means it has caught up
 * with the event log and is not shutting down.
 */
export class Lifecycle {
  private caughtUp = false;
  private draining = false;

  markReady(): void {
    this.caughtUp = true;
  }

  markDraining(): void {
    this.draining = true;
  }

  get isReady(): boolean {
    return this.caughtUp && !this.draining;
  }

  get isDraining(): boolean {
    return this.draining;
  }
}

export function healthRoutes(lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (lifecycle.isReady) {
      res.json({ status: 'ready' });
      return;
    }
    res.status(503).json({ status: lifecycle.isDraining ? 'shutting down' : 'starting' });
  });
  return router;
}
