import fs from 'node:fs';

/** USER_HZ: Linux reports process CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's CPU time and peak resident memory so far, read from /proc (Linux); null elsewhere or once it is gone. */
export function processUsage(pid: number): { cpuSeconds: number; peakRssBytes: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, peakRssBytes: peakKb * 1024 };
  } catch {
    return null;
  }
}
