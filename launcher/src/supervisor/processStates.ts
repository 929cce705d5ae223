import type { CrashLoopBackOff } from './backoff';
import type { ProcessSpec, SupervisedName } from './plan';
import type { ProcessOutput } from './processOutput';

/** How long a process may take to stop after SIGTERM before it gets SIGKILL: the services give up on their own clean stop after 10 s. */
export const STOP_GRACE_MS = 12_000;

export type ProcessState = 'starting' | 'ready' | 'crashed' | 'backing-off' | 'stopping' | 'stopped';

/**
 * What happens when a process exits on its own: `always` starts it again after a backoff, as a
 * Deployment does (npm start); `never` leaves it stopped, as a test that killed it on purpose wants.
 */
export type RestartPolicy = 'always' | 'never';

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  at: string;
}

/** One process as the control API shows it. */
export interface ProcessView<Name extends string = SupervisedName> {
  name: Name;
  state: ProcessState;
  pid: number | null;
  restarts: number;
  url: string;
  lastExit: ExitRecord | null;
  nextStartAt: string | null;
}

/** One state change, as the supervisor reports it. */
export interface StateChange<Name extends string = SupervisedName> {
  name: Name;
  state: ProcessState;
  pid: number | null;
  restarts: number;
  url: string;
  /** With `crashed` and `stopped`: how the process ended, after how long, and the last lines it printed. */
  exit?: ExitRecord & { pid: number | null; ranMs: number; lastOutput: string[] };
  /** With `backing-off`: the wait before the next start. */
  restartInMs?: number;
  nextStartAt?: string;
}

export interface SupervisedProcessOptions<Name extends string = SupervisedName> {
  spec: ProcessSpec<Name>;
  output: ProcessOutput;
  onChange: (change: StateChange<Name>) => void;
  backoff?: CrashLoopBackOff;
  /** How often /readyz is asked while the process starts. */
  probeEveryMs?: number;
  /** Default `always`. */
  restartPolicy?: RestartPolicy;
}
