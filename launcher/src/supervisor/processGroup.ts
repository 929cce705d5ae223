import { spawn, type ChildProcess } from 'node:child_process';
import { dyingWithParent } from './parentDeath';
import type { ProcessSpec } from './plan';
import type { ProcessOutput } from './processOutput';

const PROBE_TIMEOUT_MS = 1_000;

/** Whether `url` answers 200 within a second: a readiness probe. */
export async function answers200(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })).status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts `spec` as the leader of a process group of its own (detached), its output into `output`. When
 * it exits, whatever it left in its group (a watcher's child, a shell's) is killed, so it cannot keep
 * the port from the next start; once those are gone its pipes close, so its last lines are read before
 * `exited` is told. `failed`: the program could not be started at all (no such program).
 */
export function spawnGroupLeader(
  spec: ProcessSpec,
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
