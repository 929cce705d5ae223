import fs from 'node:fs';
import path from 'node:path';

/** The lowest Node.js major the project runs on: the `engines` field of the root package.json says it once. */
export function requiredNodeMajor(root: string): number {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  const major = /(\d+)/.exec(manifest.engines?.node ?? '')?.[1];
  if (!major) throw new Error('the root package.json names no Node.js version in "engines"');
  return Number(major);
}

/**
 * Why this Node.js cannot run the blog, or null. Without it an older Node starts every process and the
 * event bus then waits for ever, saying only in its own log file that it has no `node:sqlite`.
 */
export function nodeVersionProblem(running: string, requiredMajor: number): string | null {
  const major = Number(/^v?(\d+)/.exec(running)?.[1] ?? 0);
  if (major >= requiredMajor) return null;
  return [
    `Nothing was started: the blog needs Node.js ${requiredMajor} or newer, and this is Node.js ${running.replace(/^v?/, 'v')}.`,
    `  The event bus keeps its log with node:sqlite, which older Node.js does not have.`,
    `  Install Node.js ${requiredMajor} (with nvm: nvm install, which reads .nvmrc; then nvm use), run npm ci again, then npm start.`,
  ].join('\n');
}
