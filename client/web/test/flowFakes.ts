import type { DeadLetterView, FlowEvent, FlowSnapshot, KubectlCommands, ProcessName, ProcessView, SubscriberView } from '../../src/flow/wire';
import { FlowApiError, type FlowApi } from '../src/flow/flowApi';

const BASE_TIME = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Whole, valid objects; a test overrides only what decides its outcome. */
export const flowFactory = {
  event(seq: number, overrides: Partial<FlowEvent> = {}): FlowEvent {
    return {
      specversion: '1.0',
      seq,
      id: `event-${seq}`,
      source: '/comments',
      type: 'CommentCreated',
      time: new Date(BASE_TIME + seq * 1000).toISOString(),
      datacontenttype: 'application/json',
      requestid: `req-${seq}`,
      data: { id: `c-${seq}`, postId: 'p1', content: 'hello', status: 'pending' },
      ...overrides,
    };
  },
  subscriber(service: SubscriberView['service'], overrides: Partial<SubscriberView> = {}): SubscriberView {
    return {
      id: `http://127.0.0.1:400${['posts', 'comments', 'query', 'moderation'].indexOf(service ?? '')}/events`,
      service,
      position: 10,
      lag: 0,
      types: null,
      deliveries: 4,
      eventsDelivered: 10,
      failures: 0,
      consecutiveFailures: 0,
      lastError: null,
      lastSuccessAt: new Date(BASE_TIME).toISOString(),
      deadLettered: 0,
      ...overrides,
    };
  },
  process(name: ProcessName, overrides: Partial<ProcessView> = {}): ProcessView {
    return { name, state: 'ready', pid: 100, restarts: 0, url: 'http://localhost:4000', lastExit: null, nextStartAt: null, ...overrides };
  },
  deadLetter(overrides: Partial<DeadLetterView> = {}): DeadLetterView {
    return {
      subscriber: 'http://127.0.0.1:4003/events',
      seq: 7,
      id: 'event-7',
      type: 'CommentCreated',
      attempts: 10,
      lastError: 'answered 500',
      parkedAt: new Date(BASE_TIME).toISOString(),
      ...overrides,
    };
  },
  snapshot(overrides: Partial<FlowSnapshot> = {}): FlowSnapshot {
    return {
      at: new Date(BASE_TIME).toISOString(),
      mode: 'cluster',
      engine: 'embedded',
      lastSeq: 10,
      services: (['event-bus', 'posts', 'comments', 'moderation', 'query'] as const).map((name) => ({ name, state: 'ready' as const, reason: null })),
      subscribers: [
        flowFactory.subscriber('posts', { types: ['PostCreated'] }),
        flowFactory.subscriber('comments', { types: ['PostCreated', 'CommentCreated', 'CommentModerated'] }),
        flowFactory.subscriber('query', { types: ['PostCreated', 'CommentCreated', 'CommentUpdated'] }),
        flowFactory.subscriber('moderation', { types: ['CommentCreated'] }),
      ],
      streamReaders: [],
      deadLetters: [],
      supervisor: null,
      writes: [],
      problems: [],
      ...overrides,
    };
  },
  localSupervisor(overrides: Partial<Record<ProcessName, Partial<ProcessView>>> = {}, moderationDelayMs = 0): FlowSnapshot['supervisor'] {
    const names: ProcessName[] = ['event-bus', 'posts', 'comments', 'moderation', 'query', 'client'];
    return { engine: 'embedded', moderationDelayMs, processes: names.map((name) => flowFactory.process(name, overrides[name])) };
  },
};

export const KUBECTL: KubectlCommands = {
  services: Object.fromEntries(
    (['event-bus', 'posts', 'comments', 'moderation', 'query'] as const).map((name) => {
      const workload = name === 'event-bus' ? 'statefulset event-bus' : `deployment ${name}-depl`;
      return [name, { stop: `kubectl scale ${workload} --replicas=0`, start: `kubectl scale ${workload} --replicas=1`, crash: `kubectl delete pod -l app=${name}` }];
    }),
  ) as KubectlCommands['services'],
  moderationDelay: [0, 1000, 3000, 8000].map((ms) => ({ ms, command: `kubectl set env deployment/moderation-depl MODERATION_DELAY_MS=${ms}` })),
};

/**
 * The flow API in memory. Retries check an operator token when `operatorToken` is set, as the bus
 * does: none or another gives 403, a wrong one 401.
 */
export class FakeFlowApi implements FlowApi {
  snapshotNow: FlowSnapshot;
  log: FlowEvent[] = [];
  operatorToken: string | null = null;
  readonly retries: { letter: { subscriber: string; seq: number }; token: string | undefined }[] = [];
  readonly actions: string[] = [];
  readonly delays: number[] = [];
  failActions: FlowApiError | null = null;

  constructor(snapshot: FlowSnapshot = flowFactory.snapshot()) {
    this.snapshotNow = snapshot;
  }

  async snapshot(): Promise<FlowSnapshot> {
    return this.snapshotNow;
  }

  async events(after: number, limit: number): Promise<FlowEvent[]> {
    return this.log.filter((event) => event.seq > after).slice(0, limit);
  }

  async retry(letter: { subscriber: string; seq: number }, token?: string): Promise<{ retrying: number }> {
    this.retries.push({ letter, token });
    if (this.operatorToken !== null) {
      if (token === undefined) throw new FlowApiError(403, 'Only the operator may retry dead letters (403): this page\'s own credential may only read. Enter the operator token.', true);
      if (token !== this.operatorToken) throw new FlowApiError(401, 'The bus did not accept that operator token (401): check it and try again.', true);
    }
    return { retrying: 1 };
  }

  async kubectl(): Promise<KubectlCommands> {
    if (this.snapshotNow.mode === 'local') throw new FlowApiError(200, 'a local supervisor runs the processes');
    return KUBECTL;
  }

  async processAction(name: ProcessName, action: 'stop' | 'start'): Promise<void> {
    this.actions.push(`${action} ${name}`);
    if (this.failActions) throw this.failActions;
  }

  async moderationDelay(ms: number): Promise<void> {
    this.delays.push(ms);
    if (this.failActions) throw this.failActions;
  }
}
