import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { CrashLoopBackOff } from './backoff';
import type { SupervisedName } from './plan';
import { probeReady, signalGroup, spawnGroupLeader } from './processGroup';
import type { ExitRecord, ProcessState, ProcessView, RestartPolicy, StateChange, SupervisedProcessOptions } from './processStates';

export type { ExitRecord, ProcessState, ProcessView, RestartPolicy, StateChange, SupervisedProcessOptions };
export { STOP_GRACE_MS } from './processStates';

/**
 * One process kept running as a Deployment keeps its pod: started, watched until its readiness URL
 * answers, started again with a growing wait when it exits on its own, and left stopped when it was
 * asked to stop. Each process leads a process group of its own (spawned detached): a signal goes to the
 * whole group, so a watcher's or a shell's children go with it; and a terminal's Ctrl+C reaches only
 * the supervisor, which then stops everything in order instead of racing its processes' own exits.
 */
export class SupervisedProcess<Name extends string = SupervisedName> {
  private child: ChildProcess | null = null;
  private current: ProcessState = 'stopped';
  private restarts = 0;
  private lastExit: ExitRecord | null = null;
  private nextStartAt: Date | null = null;
  private startedAt = 0;
  private readyAt: number | null = null;
  /** Whether it should be running: false once asked to stop, until asked to start. */
  private wanted = false;
  /** Asked to start (or restart) while it was still stopping: it starts once it is gone. */
  private startWhenGone = false;
  /** It crashed: its next start counts as a restart. */
  private crashed = false;
  private extraEnv: NodeJS.ProcessEnv = {};
  private backoffTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private readonly gone: (() => void)[] = [];
  private readonly backoff: CrashLoopBackOff;
  private readonly probeEveryMs: number;
  private lastAnswer = 'nothing yet';

  constructor(private readonly options: SupervisedProcessOptions<Name>) {
    this.backoff = options.backoff ?? new CrashLoopBackOff();
    this.probeEveryMs = options.probeEveryMs ?? 200;
  }

  get name(): Name {
    return this.options.spec.name;
  }

  get state(): ProcessState {
    return this.current;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** What its readiness URL answered when last asked (`503 {"status":"replaying"}`, `ECONNREFUSED`). */
  get lastReadyAnswer(): string {
    return this.lastAnswer;
  }

  view(): ProcessView<Name> {
    return {
      name: this.name,
      state: this.current,
      pid: this.pid,
      restarts: this.restarts,
      url: this.options.spec.url,
      lastExit: this.lastExit,
      nextStartAt: this.nextStartAt?.toISOString() ?? null,
    };
  }

  /** Variables added to its environment from its next start on (the moderation delay). */
  setEnv(extra: NodeJS.ProcessEnv): void {
    this.extraEnv = extra;
  }

  /** Starts it now if it is not running (a process waiting out its backoff starts at once). */
  start(): void {
    this.wanted = true;
    if (this.child) {
      if (this.current === 'stopping') this.startWhenGone = true;
      return;
    }
    this.cancelBackoff();
    this.spawnNow();
  }

  /** `signal` (SIGTERM) to its group, SIGKILL after `graceMs`; it then stays stopped until started. */
  stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.wanted = false;
    this.startWhenGone = false;
    this.cancelBackoff();
    return this.terminate(graceMs, signal);
  }

  /**
   * Stops and starts it again at once, with no backoff: for a change of its settings. A process that was
   * asked to stop stays stopped, and takes the settings at its next start.
   */
  restart(graceMs: number): Promise<void> {
    if (!this.wanted) return Promise.resolve();
    if (!this.child) {
      this.start();
      return Promise.resolve();
    }
    this.startWhenGone = true;
    return this.terminate(graceMs);
  }

  /** It will not be started again when it exits: the supervisor is stopping everything. */
  letGo(): void {
    this.wanted = false;
    this.startWhenGone = false;
    this.cancelBackoff();
  }

  /** Sends `signal` to its group at once, waiting for nothing: for a supervisor that is exiting right now. */
  signalNow(signal: NodeJS.Signals): void {
    if (this.child) signalGroup(this.child, signal);
  }

  private spawnNow(): void {
    if (this.crashed) {
      this.restarts += 1;
      this.crashed = false;
    }
    this.nextStartAt = null;
    this.readyAt = null;
    this.lastAnswer = 'nothing yet';
    const { spec, output } = this.options;
    const child = spawnGroupLeader(spec, this.extraEnv, output, {
      exited: (code, signal) => this.exited(child, code, signal),
      failed: (error) => {
        output.note(`[supervisor] could not start ${spec.command}: ${error.message}`);
        this.exited(child, null, null);
      },
    });
    this.child = child;
    this.startedAt = Date.now();
    this.enter('starting');
    void this.probe(child);
  }

  /** Asks its readiness URL until it answers 200, for this child only: an answer after it exited counts for nothing. */
  private async probe(child: ChildProcess): Promise<void> {
    while (this.child === child && this.current === 'starting') {
      const { ready, answer } = await probeReady(this.options.spec.readyUrl);
      if (this.child === child) this.lastAnswer = answer;
      if (ready && this.child === child && this.current === 'starting' && child.exitCode === null) {
        this.readyAt = Date.now();
        this.enter('ready');
        return;
      }
      await sleep(this.probeEveryMs);
    }
  }

  private terminate(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) {
      if (this.current !== 'stopped') this.enter('stopped');
      return Promise.resolve();
    }
    const gone = new Promise<void>((resolve) => this.gone.push(resolve));
    if (this.current !== 'stopping') {
      this.enter('stopping');
      signalGroup(child, signal);
      this.killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    }
    return gone;
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = null;
    this.lastExit = { code, signal, at: new Date().toISOString() };
    const exit = { ...this.lastExit, pid: child.pid ?? null, ranMs: Date.now() - this.startedAt, lastOutput: this.options.output.lastWords() };
    if (this.current === 'stopping') {
      if (this.startWhenGone && this.wanted) this.spawnNow();
      else this.enter('stopped', { exit });
    } else {
      const readyMs = this.readyAt === null ? 0 : Date.now() - this.readyAt;
      this.crashed = true;
      if (this.options.restartPolicy === 'never') this.wanted = false;
      this.enter('crashed', { exit });
      if (this.wanted) this.backOff(this.backoff.next(readyMs));
      else this.enter('stopped');
    }
    this.startWhenGone = false;
    for (const resolve of this.gone.splice(0)) resolve();
  }

  private backOff(delayMs: number): void {
    this.nextStartAt = new Date(Date.now() + delayMs);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.spawnNow();
    }, delayMs);
    this.enter('backing-off', { restartInMs: delayMs, nextStartAt: this.nextStartAt.toISOString() });
  }

  private cancelBackoff(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.nextStartAt = null;
    if (this.current === 'backing-off' && !this.wanted) this.enter('stopped');
  }

  private enter(state: ProcessState, detail: Pick<StateChange, 'exit' | 'restartInMs' | 'nextStartAt'> = {}): void {
    this.current = state;
    this.options.onChange({ name: this.name, state, pid: this.pid, restarts: this.restarts, url: this.options.spec.url, ...detail });
  }
}
