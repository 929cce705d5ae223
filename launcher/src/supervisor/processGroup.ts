import { spawn, type ChildProcess } from 'node:child_process';
import { dyingWithParent } from './parentDeath';
import type { ProcessSpec } from './plan';
import type { ProcessOutput } from './processOutput';

const PROBE_TIMEOUT_MS = 1_000;

/**
 * A readiness probe: whether `url` answers 200 within a second, and what it answered (status and the
 * start of its body, or why there was no answer), for a message that says why a process is not ready.
 */
export async function probeReady(url: string): Promise<{ ready: boolean; answer: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await response.text()).slice(0, 500);
    return { ready: response.status === 200, answer: `${response.status} ${body}` };
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
    return { ready: false, answer: cause ?? (error as Error).message };
  }
}

/**
 * Starts `spec` as the leader of a process group of its own (detached), its output into `output`. When
 * it exits, whatever it left in its group (a watcher's child, a shell's) is killed, so it cannot keep
 * the port from the next start; once those are gone its pipes close, so its last lines are read before
 * `exited` is told. `failed`: the program could not be started at all (no such program).
 */
export function spawnGroupLeader(
  spec: ProcessSpec<string>,
  extraEnv: NodeJS.ProcessEnv,
  output: ProcessOutput,
  on: { exited: (code: number | null, signal: NodeJS.Signals | null) => void; failed: (error: Error) => void },
): ChildProcess {
  const { command, args } = dyingWithParent(spec.command, spec.args);
  const child = spawn(command, args, { cwd: spec.cwd, env: { ...spec.env, ...extraEnv }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.stdout) output.attach(child.stdout);
  if (child.stderr) output.attach(child.stderr);
  child.once('exit', (code, signal) => {
    signalGroup(child, 'SIGKILL');
    const settle = setTimeout(() => on.exited(code, signal), 500);
    child.once('close', () => {
      clearTimeout(settle);
      on.exited(code, signal);
    });
  });
  child.once('error', (error) => {
    // Only a spawn that failed leaves no pid; later errors come with an exit.
    if (child.pid === undefined) on.failed(error);
  });
  return child;
}

/** A signal to the process group `child` leads; a group already gone is not an error. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}
