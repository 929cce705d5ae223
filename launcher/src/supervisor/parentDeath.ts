import { spawnSync } from 'node:child_process';

let setprivWorks: boolean | undefined;

/**
 * The command to spawn so that the child gets SIGTERM when the supervisor dies, however it dies (even
 * SIGKILL, which lets the supervisor do nothing): util-linux's `setpriv --pdeathsig` asks the kernel for
 * that signal (Linux's parent-death signal) and then becomes the program itself, pid and all. Where
 * setpriv is missing (macOS), the command is run as it is.
 */
export function dyingWithParent(command: string, args: string[]): { command: string; args: string[] } {
  setprivWorks ??= process.platform === 'linux' && spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig') === true;
  return setprivWorks ? { command: 'setpriv', args: ['--pdeathsig', 'SIGTERM', '--', command, ...args] } : { command, args };
}
