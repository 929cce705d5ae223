import fs from 'node:fs';
import path from 'node:path';

const developing = fs.readFileSync(path.resolve(__dirname, '../../docs/DEVELOPING.md'), 'utf8');

/** The text of one `## ` section of docs/DEVELOPING.md, up to the next one. */
export function section(heading: string): string {
  const start = developing.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`docs/DEVELOPING.md has no "## ${heading}" section`);
  const end = developing.indexOf('\n## ', start + 1);
  return developing.slice(start, end === -1 ? undefined : end);
}

/** The text of a `### ` part of `text`, up to the next heading of any level. */
export function part(text: string, heading: string): string {
  const start = text.indexOf(`\n### ${heading}\n`);
  if (start === -1) throw new Error(`this part of docs/DEVELOPING.md has no "### ${heading}"`);
  const end = text.indexOf('\n#', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

/** Source paths written in backticks, e.g. `comments/src/routes/commentsRoutes.ts`. */
export function sourcePaths(text: string): string[] {
  return [...text.matchAll(/`([\w.-]+\/[\w./-]+\.tsx?)`/g)].map((match) => match[1]!);
}
