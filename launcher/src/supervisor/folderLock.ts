import fs from 'node:fs';
import path from 'node:path';

/** The file that says which supervisor holds a data folder: its pid. */
const LOCK_FILE = '.in-use-by-npm-start';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a data folder for this run: one run per folder, so two runs never write one log. Answers the
 * pid of the live run that holds it, or null once it is this run's (a claim left by a run that died is
 * taken over). The claim is released by `releaseFolder` when the run stops; one that dies leaves a claim
 * the next run sees is stale.
 */
export function claimFolder(dir: string): number | null {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) return holder;
      fs.rmSync(file, { force: true });
    }
  }
  return null;
}

/** Gives the folder back, if this run holds it. */
export function releaseFolder(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  try {
    if (Number(fs.readFileSync(file, 'utf8')) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // Gone already (the folder deleted): nothing to give back.
  }
}
