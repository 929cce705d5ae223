import type { EngineProblem } from '@blog/contracts';
import { Router, type RequestHandler } from 'express';

/** Why a process that is alive must not be sent traffic, as `/readyz` reports it. */
export type ReadinessProblem = EngineProblem;

/**
 * Liveness and readiness of one process. Alive means the process answers; ready means it has caught up
 * with the event log and is not shutting down.
 */
export class Lifecycle {
  private caughtUp = false;
  private draining = false;
  private trouble: ReadinessProblem | null = null;
  private readonly problemSources: (() => ReadinessProblem | null)[] = [];
  private readonly remarkSources: (() => Record<string, unknown> | null)[] = [];
  private readonly drainListeners = new Set<() => void>();

  markReady(): void {
    this.caughtUp = true;
  }

  markDraining(): void {
    if (this.draining) return;
    this.draining = true;
    for (const listener of this.drainListeners) listener();
  }

  /** Long-lived responses (event streams) end themselves here, so a shutdown is not held open by them. */
  onDrain(listener: () => void): () => void {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Not ready, whatever else holds, until `clearProblem`: the process stays up to say why. */
  markProblem(problem: ReadinessProblem): void {
    this.trouble = problem;
  }

  clearProblem(): void {
    this.trouble = null;
  }

  /** A part that can find the process unfit on its own (the event engine, its log damaged), asked each time. */
  watchProblems(source: () => ReadinessProblem | null): void {
    this.problemSources.push(source);
  }

  /** Something `/readyz` should say even while ready (the engine out of reach, the view delayed). */
  watchRemarks(source: () => Record<string, unknown> | null): void {
    this.remarkSources.push(source);
  }

  get remarks(): Record<string, unknown> {
    return Object.assign({}, ...this.remarkSources.map((source) => source() ?? {}));
  }

  get problem(): ReadinessProblem | null {
    if (this.trouble) return this.trouble;
    for (const source of this.problemSources) {
      const found = source();
      if (found) return found;
    }
    return null;
  }

  get isReady(): boolean {
    return this.caughtUp && !this.draining && this.problem === null;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Whether the service has caught up with the log once (it stays so while it shuts down). */
  get hasCaughtUp(): boolean {
    return this.caughtUp;
  }
}

/**
 * Until a service that rebuilds its state from the log has caught up, its reads answer 503 with
 * Retry-After, never a 200 of a partial view: `{}` from query a second after a restart would read as
 * "the blog is empty".
 */
export function readsAfterCatchUp(lifecycle: Lifecycle, name: string): RequestHandler {
  return (req, res, next) => {
    if (lifecycle.hasCaughtUp || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.setHeader('retry-after', '1');
    res.status(503).json({ error: `${name} is still reading the event log; its answer would be incomplete, try again in a moment`, details: [] });
  };
}

export function healthRoutes(lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (lifecycle.isReady) {
      res.json({ status: 'ready', ...lifecycle.remarks });
      return;
    }
    if (lifecycle.problem && !lifecycle.isDraining) {
      res.status(503).json(lifecycle.problem);
      return;
    }
    res.status(503).json({ status: lifecycle.isDraining ? 'shutting down' : 'starting' });
  });
  return router;
}
