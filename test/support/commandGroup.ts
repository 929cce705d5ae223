import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * A command a user types (npm start, npm run start:nats) run from the repository root in its own process
 * group, its output kept, and stopped with Ctrl+C's SIGINT to the whole group. `signal` sends one to the
 * command's own process only, as `kill <pid>` from another terminal does.
 */
export class CommandGroup {
  output = '';
  stdout = '';
  stderr = '';
  private child: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  start(command: string, args: string[], env: NodeJS.ProcessEnv): void {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env, FORCE_COLOR: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.output += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.output += chunk.toString();
    });
  }

  /** The command's own pid, which is also its process group's id. */
  get pid(): number {
    if (!this.child?.pid) throw new Error('the command was not started');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with how the command ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) throw new Error('the command was not started');
    return this.exit;
  }

  /** A signal to the command's own process, not its group. */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    const exited = this.exited();
    process.kill(-child.pid, 'SIGINT');
    await exited;
  }
}
