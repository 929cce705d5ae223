import { setTimeout as sleep } from 'node:timers/promises';
import { processUsage } from './processUsage';
import type { ProcessSpec } from './supervisor/plan';
import { ProcessOutput } from './supervisor/processOutput';
import { STOP_GRACE_MS, SupervisedProcess, type StateChange } from './supervisor/supervisedProcess';

/**
 * Every process started and not yet gone (pid -> name), kept on the global object so that the test
 * environment (test/support/processSafeEnvironment.js) can kill what a failed test left running after
 * the file's own clean-up has had its turn, instead of jest waiting on it until CI's time limit.
 */
const RUNNING_KEY = '__blogManagedChildren';
function runningProcesses(): Map<number, string> {
  const holder = globalThis as typeof globalThis & { [RUNNING_KEY]?: Map<number, string> };
  holder[RUNNING_KEY] ??= new Map();
  return holder[RUNNING_KEY];
}

/**
 * How long a program may take to answer its health URL: a 3-server NATS cluster with two processes of
 * every service, starting at once on 2 cores, takes about 8 s here; the rest is for a slow day. One
 * that misses it fails saying what its health URL answered and what it printed.
 */
const START_TIMEOUT_MS = 60_000;

/**
 * One program the tests, the bench and the chaos runs start: a SupervisedProcess, spawned, probed and
 * stopped exactly as `npm start` does it, but never started again on its own (a test that kills it
 * means it), and started with a wait that fails with the reason. The services and the NATS servers are
 * each one.
 */
export class ManagedProcess {
  private supervised: SupervisedProcess<string> | null = null;
  private readonly output = new ProcessOutput(null, null, 200);

  constructor(readonly name: string) {}

  get pid(): number | undefined {
    return this.supervised?.pid ?? undefined;
  }

  /** The last lines the process printed (up to 200), for a failing test's message. */
  recentOutput(count = 200): string {
    return this.output.lastLines(count).join('\n');
  }

  /** CPU time and peak resident memory so far, read from /proc (Linux); null elsewhere or when stopped. */
  usage(): { cpuSeconds: number; peakRssBytes: number } | null {
    return this.pid === undefined ? null : processUsage(this.pid);
  }

  /** Starts `spec` and waits until its readiness URL answers 200 (as `what`), or it exits. */
  protected async run(spec: ProcessSpec<string>, what: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
    if (this.pid !== undefined) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    let settle: (change: StateChange<string>) => void = () => undefined;
    const settled = new Promise<StateChange<string>>((resolve) => (settle = resolve));
    const supervised = new SupervisedProcess<string>({ spec, output: this.output, restartPolicy: 'never', probeEveryMs: 50, onChange: (change) => this.changed(change, settle) });
    this.supervised = supervised;
    supervised.start();
    const timer = new AbortController();
    const timedOut = sleep(timeoutMs, null, { signal: timer.signal }).catch(() => null);
    try {
      const change = await Promise.race([settled, timedOut]);
      if (change?.state === 'ready') return;
      if (change?.exit) throw new Error(`${this.name} exited with ${change.exit.code ?? change.exit.signal} while starting: ${this.recentOutput(30)}`);
      // Why it is not ready, for a test that fails on a slow machine: what it answered, what it printed.
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${spec.readyUrl} last answered ${supervised.lastReadyAnswer}; its last output: ${this.recentOutput(30) || '(none)'}`);
    } finally {
      timer.abort();
    }
  }

  private changed(change: StateChange<string>, settle: (change: StateChange<string>) => void): void {
    if (change.state === 'starting' && change.pid !== null) runningProcesses().set(change.pid, this.name);
    if (change.exit?.pid) runningProcesses().delete(change.exit.pid);
    if (change.state === 'ready' || change.state === 'crashed' || change.state === 'stopped') settle(change);
  }

  /** Sends `signal` (SIGKILL after the grace npm start gives) and waits for the process to be gone; answers its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const supervised = this.supervised;
    await supervised?.stop(STOP_GRACE_MS, signal);
    return supervised?.view().lastExit?.code ?? null;
  }
}
