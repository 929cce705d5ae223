import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Who runs each kind of README command block (the tag in the comment above it):
 * - quickstart: test/readme.int.test.ts runs `npm start` as written;
 * - ci: .ci/run runs the test command as written;
 * - tour: test/readme.int.test.ts runs every tour block, in order, in one shell, against that npm start;
 * - cluster: test/readme.cluster.test.ts runs them against a kubectl and a docker that check each
 *   command against the manifests (there is no cluster here).
 */
export const README_RUNNERS = ['quickstart', 'ci', 'tour', 'cluster'] as const;
export type ReadmeRunner = (typeof README_RUNNERS)[number];

export interface ReadmeBlock {
  tag: string | null;
  language: string;
  text: string;
  line: number;
}

/** Every fenced block of README.md, with the readme-test tag on the line before it, if any. */
export function readmeBlocks(): ReadmeBlock[] {
  const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[index]!);
    if (!open) continue;
    const start = index;
    const body: string[] = [];
    for (index += 1; index < lines.length && !/^\s*```\s*$/.test(lines[index]!); index += 1) body.push(lines[index]!.slice(open[1]!.length));
    const tag = /^<!-- readme-test: ([\w-]+) -->$/.exec(lines[start - 1] ?? '')?.[1] ?? null;
    blocks.push({ tag, language: open[2]!, text: `${body.join('\n')}\n`, line: start + 1 });
  }
  return blocks;
}

/** The text of every block a runner runs, in README order. */
export function blocksFor(runner: ReadmeRunner): string[] {
  return readmeBlocks()
    .filter((block) => block.tag === runner)
    .map((block) => block.text);
}
