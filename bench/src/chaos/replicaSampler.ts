import { setTimeout as sleep } from 'node:timers/promises';
import { wholeView } from '../wholeView';
import { READY_GRACE_MS } from '@blog/contracts';
import { expectedStatus } from '../pipeline';

/** A comment written and acknowledged (201), with when the answer came. */
export interface Acknowledged {
  id: string;
  content: string;
  ackAt: number;
}

/** A replica answering ready while its view lacked a comment acknowledged more than the grace before. */
export interface ReadinessLie {
  replica: string;
  atMs: number;
  missing: number;
}

/**
 * A time slack on top of the grace: an acknowledged event reaches the log a moment before its answer
 * arrives, and the replica's last look at the log's end may be that moment old.
 */
const SAMPLING_SLACK_MS = 500;

/**
 * Watches every query replica as a reader would, every `everyMs`: its /readyz, then its view (a view
 * that lacks a comment lacked it when the replica said ready a moment before; asked the other way
 * round, a replica that caught up in between would look as if it had said ready while lacking it).
 * It notes when each acknowledged comment was first seen final on each replica, and every time a
 * replica said ready while it lacked a comment acknowledged more than READY_GRACE_MS before.
 */
export class ReplicaSampler {
  /** Per replica, per comment id: when it was first seen with its final status. */
  private readonly finalAt = new Map<string, Map<string, number>>();
  readonly lies: ReadinessLie[] = [];
  readonly readiness = new Map<string, { ready: number; notReady: number }>();
  /** Per replica, what its last view showed of the acknowledged comments: how many in each status, or missing. */
  readonly lastSeen = new Map<string, Record<string, number>>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly replicas: string[],
    private readonly acknowledged: () => readonly Acknowledged[],
    private readonly everyMs = 200,
  ) {
    for (const replica of replicas) {
      this.finalAt.set(replica, new Map());
      this.readiness.set(replica, { ready: 0, notReady: 0 });
    }
  }

  start(): void {
    this.stopped = false;
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.running = null;
  }

  /** True once every acknowledged comment is final on every replica. */
  allFinal(): boolean {
    return this.acknowledged().every((comment) => this.replicas.every((replica) => this.finalAt.get(replica)!.has(comment.id)));
  }

  /** How long each acknowledged comment took to be final on each replica, in ms; missing ones are left out. */
  catchUpTimes(): number[] {
    return this.acknowledged().flatMap((comment) => this.replicas.flatMap((replica) => {
      const at = this.finalAt.get(replica)!.get(comment.id);
      return at === undefined ? [] : [Math.max(0, at - comment.ackAt)];
    }));
  }

  /** Acknowledged comments some replica has not shown final. */
  notFinal(): number {
    return this.acknowledged().filter((comment) => this.replicas.some((replica) => !this.finalAt.get(replica)!.has(comment.id))).length;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await Promise.all(this.replicas.map((replica) => this.sample(replica).catch(() => undefined)));
      await sleep(this.everyMs);
    }
  }

  private async sample(replica: string): Promise<void> {
    const askedAt = Date.now();
    const ready = (await fetch(`${replica}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    const viewedAt = Date.now();
    const view = await wholeView(replica);
    const statuses = new Map(Object.values(view).flatMap((post) => post.comments.map((comment) => [comment.id, comment.status] as const)));
    const seen = this.finalAt.get(replica)!;
    const acknowledged = this.acknowledged();
    for (const comment of acknowledged) {
      if (!seen.has(comment.id) && statuses.get(comment.id) === expectedStatus(comment.content)) seen.set(comment.id, viewedAt);
    }
    const shown: Record<string, number> = {};
    for (const comment of acknowledged) {
      const status = statuses.get(comment.id) ?? 'missing';
      shown[status] = (shown[status] ?? 0) + 1;
    }
    this.lastSeen.set(replica, shown);
    const counts = this.readiness.get(replica)!;
    if (ready) counts.ready += 1;
    else counts.notReady += 1;
    if (!ready) return;
    const missing = acknowledged.filter((comment) => comment.ackAt < askedAt - READY_GRACE_MS - SAMPLING_SLACK_MS && !statuses.has(comment.id)).length;
    if (missing > 0) this.lies.push({ replica, atMs: askedAt - this.startedAt, missing });
  }
}
