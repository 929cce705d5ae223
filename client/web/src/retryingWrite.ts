// The policy itself, from the contracts' limits file (plain constants): the package's index would bring zod into the page.
import { WRITE_RETRY as SHARED_WRITE_RETRY } from '../../../contracts/src/limits';
import { ApiError } from './api';

/** How long a write keeps trying before the page gives up and says so, and how it spaces its attempts. */
export interface RetryPolicy {
  giveUpAfterMs: number;
  firstWaitMs: number;
  maxWaitMs: number;
}

/** About a minute: longer than a service takes to restart (the supervisor's back-off, a pod's rollout). */
export const WRITE_RETRY: RetryPolicy = SHARED_WRITE_RETRY;

/**
 * The failures a keyed write waits out: no answer or a refused connection, 502, 503, 504 (the service was
 * down, or its answer was lost), and 409 (its own first attempt is still being handled). The key makes
 * sending it again safe: a write that was stored is answered, not stored twice.
 */
export const isWorthRetrying = (error: unknown): error is ApiError =>
  error instanceof ApiError && (error.kind === 'unavailable' || error.kind === 'unknown-outcome' || error.kind === 'in-flight');

const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1_000))} s`;

/** Why a write is still being saved, in words: the service and its state when the server knows them. */
export function waitingReason(error: ApiError, waitMs: number): string {
  const again = `trying again in ${seconds(waitMs)}`;
  if (error.service) {
    const state = error.service.state ? ` (${error.service.state})` : '';
    return `Waiting for the ${error.service.name} service${state}; ${again}.`;
  }
  if (error.kind === 'in-flight') return `The first attempt is still being handled; ${again}.`;
  if (error.kind === 'unknown-outcome') return `No answer yet (${error.message}); ${again}, and it will be saved once.`;
  return `Not saved yet: ${error.message}; ${again}.`;
}

export interface RetryingWriteOptions {
  policy?: RetryPolicy;
  /** Told before each wait why the write is still waiting. */
  onWaiting(reason: string): void;
  /** Other failures worth another attempt (a comment's post not yet known to the comments service). */
  alsoRetry?(error: unknown, elapsedMs: number): boolean;
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends a write until it is answered: waits out the failures worth retrying, with a doubling wait,
 * until the policy gives up; then, or on any other failure, throws what the last attempt got.
 */
export async function sendUntilAnswered<T>(send: () => Promise<T>, options: RetryingWriteOptions): Promise<T> {
  const { policy = WRITE_RETRY, sleep = realSleep, now = Date.now } = options;
  const started = now();
  for (let wait = policy.firstWaitMs; ; wait = Math.min(wait * 2, policy.maxWaitMs)) {
    try {
      return await send();
    } catch (error) {
      const elapsed = now() - started;
      if (elapsed + wait > policy.giveUpAfterMs) throw error;
      if (isWorthRetrying(error)) options.onWaiting(waitingReason(error, wait));
      else if (!options.alsoRetry?.(error, elapsed)) throw error;
      await sleep(wait);
    }
  }
}
