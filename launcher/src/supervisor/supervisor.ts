import path from 'node:path';
import { BLOG_SERVICES } from '@blog/contracts';
import { waitFor } from '../waitFor';
import type { EngineName, Plan, SupervisedName } from './plan';
import { ProcessOutput } from './processOutput';
import type { Reporter } from './reporter';
import { SupervisedProcess, type ProcessState, type ProcessView, type StateChange } from './supervisedProcess';

/** What `GET /processes` answers. */
export interface SupervisorView {
  engine: EngineName;
  moderationDelayMs: number;
  processes: ProcessView[];
}

export interface SupervisorOptions {
  plan: Plan;
  engine: EngineName;
  reporter: Reporter;
  logsDir: string;
  /** Echo the processes' output through the reporter too (it always goes to their log files). */
  showLogs: boolean;
  /** How long a process may take to stop after SIGTERM before it gets SIGKILL. */
  graceMs: number;
  moderationDelayMs: number;
  /** For the summary: where the engine keeps its data. */
  storage: string;
}

/** Stopped in this order: what takes requests first, then the bus they publish to, then its engine. */
const STOP_ORDER: readonly (readonly SupervisedName[])[] = [['client', ...BLOG_SERVICES], ['event-bus'], ['nats']];

/** How long the services wait for NATS to be ready before they start anyway (they retry the connection). */
const NATS_FIRST_MS = 20_000;

/**
 * The whole system as a set of Deployments: every process started, each restarted on its own when it
 * crashes while the others go on, any one stopped or started on request, and all of them stopped in order.
 */
export class Supervisor {
  private readonly processes = new Map<SupervisedName, SupervisedProcess>();
  private readonly outputs: ProcessOutput[] = [];
  private readonly startedAt = Date.now();
  private moderationDelayMs: number;
  private stopping: Promise<void> | null = null;
  private announced = false;

  constructor(private readonly options: SupervisorOptions) {
    this.moderationDelayMs = options.moderationDelayMs;
    for (const spec of options.plan.specs) {
      const echo = options.showLogs ? (line: string) => options.reporter.log(spec.name, line) : null;
      const output = new ProcessOutput(path.join(options.logsDir, `${spec.name}.log`), echo);
      this.outputs.push(output);
      this.processes.set(spec.name, new SupervisedProcess({ spec, output, onChange: (change) => this.changed(change) }));
    }
    this.processes.get('moderation')?.setEnv(this.moderationEnv());
  }

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  /** NATS first (the services' engine), then everything else at once, as a cluster schedules pods. */
  async startAll(): Promise<void> {
    const nats = this.processes.get('nats');
    if (nats) {
      nats.start();
      await waitFor('NATS', () => nats.state === 'ready' || nats.state === 'backing-off' || this.isStopping, { timeoutMs: NATS_FIRST_MS, intervalMs: 50 }).catch(() => undefined);
    }
    if (this.isStopping) return;
    for (const supervised of this.processes.values()) if (supervised !== nats) supervised.start();
  }

  view(): SupervisorView {
    return { engine: this.options.engine, moderationDelayMs: this.moderationDelayMs, processes: [...this.processes.values()].map((supervised) => supervised.view()) };
  }

  has(name: string): name is SupervisedName {
    return this.processes.has(name as SupervisedName);
  }

  /** Asks the process to stop and answers at once; it stays stopped until started. */
  stopProcess(name: SupervisedName): { name: SupervisedName; state: ProcessState } {
    const supervised = this.get(name);
    void supervised.stop(this.options.graceMs);
    return { name, state: supervised.state };
  }

  startProcess(name: SupervisedName): { name: SupervisedName; state: ProcessState } {
    const supervised = this.get(name);
    supervised.start();
    return { name, state: supervised.state };
  }

  /** Moderation's new delay, taken in by restarting it with MODERATION_DELAY_MS (a stopped moderation takes it when started). */
  setModerationDelay(ms: number): { name: 'moderation'; state: ProcessState; moderationDelayMs: number } {
    const moderation = this.get('moderation');
    this.moderationDelayMs = ms;
    moderation.setEnv(this.moderationEnv());
    void moderation.restart(this.options.graceMs);
    return { name: 'moderation', state: moderation.state, moderationDelayMs: ms };
  }

  /** Stops everything in order (SIGTERM, SIGKILL after the grace period); a second call waits for the first. */
  stopAll(signal: string): Promise<void> {
    this.stopping ??= this.stopInOrder(signal);
    return this.stopping;
  }

  /** A signal to every process group this instant: the last thing a supervisor that is exiting can do. */
  signalAllNow(signal: NodeJS.Signals): void {
    for (const supervised of this.processes.values()) supervised.signalNow(signal);
  }

  private async stopInOrder(signal: string): Promise<void> {
    this.options.reporter.stopping(signal);
    // None is restarted from now on, whichever tier it is in.
    for (const supervised of this.processes.values()) supervised.letGo();
    for (const tier of STOP_ORDER) {
      await Promise.all(tier.flatMap((name) => this.processes.get(name)?.stop(this.options.graceMs) ?? []));
    }
    await Promise.all(this.outputs.map((output) => output.close()));
    this.options.reporter.stopped();
  }

  private get(name: SupervisedName): SupervisedProcess {
    const supervised = this.processes.get(name);
    if (!supervised) throw new Error(`${name} is not part of this run`);
    return supervised;
  }

  private moderationEnv(): NodeJS.ProcessEnv {
    return { MODERATION_DELAY_MS: String(this.moderationDelayMs) };
  }

  private changed(change: StateChange): void {
    this.options.reporter.processChanged(change);
    if (this.announced || this.isStopping || change.state !== 'ready') return;
    if (![...this.processes.values()].every((supervised) => supervised.state === 'ready')) return;
    this.announced = true;
    this.options.reporter.allReady({
      engine: this.options.engine,
      seconds: (Date.now() - this.startedAt) / 1000,
      processes: this.options.plan.specs.map(({ name, url }) => ({ name, url })),
      controlUrl: this.options.plan.controlUrl,
      storage: this.options.storage,
      logsDir: this.options.logsDir,
      logsShown: this.options.showLogs,
      pid: process.pid,
    });
  }
}
