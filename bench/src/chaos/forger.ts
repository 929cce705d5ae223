import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { CALLER_NAMES, EVENT_OWNERS, type BlogServiceName, type CallerName, type EventType } from '@blog/contracts';
import type { Credentials } from '@blog/launcher';
import { NatsConnector, busAuthHeaders, natsNames } from '@blog/service-kit';
import type { WriteRecord } from './chaosLoad';
import type { SeededRandom } from './random';

/** What became of the forged events: refused by the bus or by NATS, not sent (nothing was up to take it), or stored. */
export interface ForgeryCount {
  sent: number;
  refused: number;
  unreachable: number;
  stored: number;
}

export interface ForgerTargets {
  busUrl: string;
  /** The NATS servers, with the NATS engine: half the forgeries go straight to them. */
  natsServers: string[];
}

type ServiceCaller = BlogServiceName;

/**
 * A publisher that holds a real credential and uses it for what it does not own, while the chaos run
 * kills the services: approving a comment with "orange" before moderation sees it, rewriting a comment's
 * text, announcing a post. Every forged event's id is kept, so the run can check none of them is stored.
 */
export class Forger {
  readonly ids = new Set<string>();
  readonly count: ForgeryCount = { sent: 0, refused: 0, unreachable: 0, stored: 0 };
  private readonly nats = new Map<ServiceCaller, NatsConnector>();
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly credentials: Credentials,
    private readonly targets: () => ForgerTargets,
    private readonly records: readonly WriteRecord[],
    private readonly random: SeededRandom,
  ) {}

  start(): void {
    this.running = this.loop();
  }

  async stop(): Promise<ForgeryCount> {
    this.stopped = true;
    await this.running;
    await Promise.all([...this.nats.values()].map((connector) => connector.close()));
    return this.count;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await sleep(this.random.int(100, 400));
      await this.forgeOne();
    }
  }

  /** An event about something real when there is something: an acknowledged comment, or a made-up post. */
  private forgedEvent(type: EventType): { type: EventType; data: Record<string, unknown> } {
    const comments = this.records.filter((record) => record.kind === 'comment' && record.outcome === 'acknowledged');
    const target = comments.length > 0 ? this.random.pick(comments) : null;
    if (type === 'PostCreated') return { type, data: { id: `forged-${randomUUID()}`, title: 'Forged post' } };
    const comment = { id: target?.id ?? `forged-${randomUUID()}`, postId: target?.postId ?? 'forged-post', content: 'Forged text' };
    return { type, data: { ...comment, status: type === 'CommentCreated' ? 'pending' : 'approved' } };
  }

  private async forgeOne(): Promise<void> {
    const caller = this.random.pick<CallerName>([...CALLER_NAMES]);
    const type = this.random.pick((Object.keys(EVENT_OWNERS) as EventType[]).filter((candidate) => EVENT_OWNERS[candidate] !== caller));
    const id = randomUUID();
    this.ids.add(id);
    this.count.sent += 1;
    const { natsServers } = this.targets();
    const outcome =
      natsServers.length > 0 && caller !== 'operator' && caller !== 'client' && this.random.chance(0.5)
        ? await this.straightToNats(caller, type, id)
        : await this.throughTheBus(caller, type, id);
    this.count[outcome] += 1;
  }

  private async throughTheBus(caller: CallerName, type: EventType, id: string): Promise<keyof Omit<ForgeryCount, 'sent'>> {
    const { busUrl } = this.targets();
    try {
      const answer = await fetch(`${busUrl}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...busAuthHeaders(this.credentials.tokens[caller]) },
        body: JSON.stringify({ id, ...this.forgedEvent(type) }),
        signal: AbortSignal.timeout(5_000),
      });
      await answer.arrayBuffer();
      if (answer.status === 403) return 'refused';
      return answer.status === 201 ? 'stored' : 'unreachable';
    } catch {
      // The bus was down (killed by the run): the forgery reached no one.
      return 'unreachable';
    }
  }

  private async straightToNats(caller: ServiceCaller, type: EventType, id: string): Promise<keyof Omit<ForgeryCount, 'sent'>> {
    let connector = this.nats.get(caller);
    if (!connector) {
      const servers = this.targets().natsServers;
      connector = new NatsConnector({ servers, name: `forger-${caller}`, replicas: 1, dedupeWindowMs: 60_000, timeoutMs: 2_000, user: caller, password: this.credentials.tokens[caller] });
      this.nats.set(caller, connector);
    }
    try {
      const link = await connector.connected();
      await link.js.publish(natsNames.subjectOf(type), JSON.stringify({ specversion: '1.0', id, source: `/${caller}`, ...this.forgedEvent(type) }), { msgID: id });
      return 'stored';
    } catch (error) {
      return /Permissions Violation/.test(error instanceof Error ? error.message : String(error)) ? 'refused' : 'unreachable';
    }
  }
}
