import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

export interface Sample {
  index: number;
  startedAt: number;
  latencyMs: number;
  status: number;
  /** Whatever the request produced that the run needs later (e.g. the created comment's id). */
  value?: string;
}

export type Send = (index: number) => Promise<{ status: number; value?: string }>;

/** `startedAt` defaults to now; an open loop passes the moment the request was due instead. */
async function timed(index: number, send: Send, startedAt = performance.now()): Promise<Sample> {
  try {
    const { status, value } = await send(index);
    return { index, startedAt, latencyMs: performance.now() - startedAt, status, value };
  } catch {
    return { index, startedAt, latencyMs: performance.now() - startedAt, status: 0 };
  }
}

/** `concurrency` clients, each sending its next request as soon as the last one is answered. */
export async function closedLoop(count: number, concurrency: number, send: Send, onDone?: () => void): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  const client = async () => {
    while (next < count) {
      const sample = await timed(next++, send);
      samples.push(sample);
      onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, client));
  return samples.sort((a, b) => a.index - b.index);
}

/**
 * Requests at a fixed arrival rate whatever the answers take (open loop), so latency is measured below
 * saturation instead of being hidden by clients that wait. Each request's latency counts from when it
 * was due, not when it left: if the load generator itself falls behind (a busy core), that delay is
 * part of what a user at that rate would see, and is not silently dropped (coordinated omission).
 */
export async function openLoop(ratePerSecond: number, durationSeconds: number, send: Send, onDone?: () => void): Promise<Sample[]> {
  const total = Math.round(ratePerSecond * durationSeconds);
  const intervalMs = 1000 / ratePerSecond;
  const begin = performance.now();
  const pending: Promise<Sample>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = begin + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      timed(index, send, due).then((sample) => {
        onDone?.();
        return sample;
      }),
    );
  }
  return Promise.all(pending);
}
