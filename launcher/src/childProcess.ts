import { spawn, type ChildProcess } from 'node:child_process';
import { processUsage } from './processUsage';
import { ProcessOutput } from './supervisor/processOutput';
import { waitFor } from './waitFor';

/**
 * One program the launcher runs and watches: its output kept for error messages, started until a
 * health URL answers 200, stopped with a signal. The services and the NATS servers are each one.
 */
/**
 * Every child started and not yet stopped, kept on the global object so that the test environment
 * (test/support/processSafeEnvironment.js) can kill what a failed test left running after the file's
 * own clean-up has had its turn, instead of jest waiting on it until CI's time limit.
 */
const RUNNING_KEY = '__blogManagedChildren';
function runningChildren(): Set<ChildProcess> {
  const holder = globalThis as typeof globalThis & { [RUNNING_KEY]?: Set<ChildProcess> };
  holder[RUNNING_KEY] ??= new Set();
  return holder[RUNNING_KEY];
}

/**
 * How long a program may take to answer its health URL: a 3-server NATS cluster with two processes of
 * every service, starting at once on 2 cores, takes about 8 s here; the rest is for a slow day. One
 * that misses it fails saying what its health URL answered and what it printed.
 */
const START_TIMEOUT_MS = 60_000;

export class ManagedProcess {
  private child: ChildProcess | null = null;
  private output = new ProcessOutput(null, null, 200);

  constructor(readonly name: string) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the process printed (up to 200), for a failing test's message. */
  recentOutput(count = 200): string {
    return this.output.lastLines(count).join('\n');
  }

  /** CPU time and peak resident memory so far, read from /proc (Linux); null elsewhere or when stopped. */
  usage(): { cpuSeconds: number; peakRssBytes: number } | null {
    return this.pid === undefined ? null : processUsage(this.pid);
  }

  /** Spawns `program` and waits until `healthUrl` answers 200 (as `what`), or the program exits. */
  protected async run(program: string, args: string[], env: NodeJS.ProcessEnv, healthUrl: string, what: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.stdout) this.output.attach(child.stdout);
    if (child.stderr) this.output.attach(child.stderr);
    this.child = child;
    runningChildren().add(child);
    child.once('exit', () => runningChildren().delete(child));
    // A process that exits while starting is reported at once, not when the wait runs out.
    let stopWaiting = () => undefined as void;
    const exited = new Promise<never>((_, reject) => {
      const onExit = () => reject(new Error(`${this.name} exited with ${child.exitCode ?? child.signalCode} while starting: ${this.recentOutput(30)}`));
      child.once('exit', onExit);
      stopWaiting = () => void child.off('exit', onExit);
    });
    let lastAnswer = 'nothing';
    const healthy = async () => {
      const answer = await fetch(healthUrl);
      lastAnswer = `${answer.status} ${(await answer.text()).slice(0, 500)}`;
      return answer.status === 200;
    };
    try {
      await Promise.race([waitFor(what, healthy, { timeoutMs, intervalMs: 50 }), exited]);
    } catch (error) {
      // Why it is not ready, for a test that fails on a slow machine: what it answered, what it printed.
      if (child.exitCode !== null || child.signalCode !== null) throw error;
      throw new Error(`${(error as Error).message}; ${healthUrl} last answered ${lastAnswer}; its last output: ${this.recentOutput(30) || '(none)'}`);
    } finally {
      stopWaiting();
    }
  }

  /** Sends `signal` and waits for the process to be gone; answers its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }
}
