/** Exponential backoff with full jitter, capped, so many failing subscribers do not retry in lockstep. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.max(baseMs, Math.round(ceiling * random()));
}
