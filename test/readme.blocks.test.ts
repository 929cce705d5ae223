import fs from 'node:fs';
import path from 'node:path';
import { README_RUNNERS, blocksFor, readmeBlocks } from './support/readmeBlocks';

const ROOT = path.resolve(__dirname, '..');

describe("the README's commands", () => {
  it('when a block holds commands (sh), then it names the test that runs it, one of the known runners', () => {
    const commands = readmeBlocks().filter((block) => block.language === 'sh');

    expect(commands.length).toBeGreaterThan(5);
    for (const block of commands) expect({ line: block.line, tag: block.tag }).toEqual({ line: block.line, tag: expect.stringMatching(new RegExp(`^(${README_RUNNERS.join('|')})$`)) });
  });

  it('when a runner is named, then its runner exists and runs exactly those blocks', () => {
    const runnerFiles: Record<string, string> = { quickstart: 'test/readme.int.test.ts', tour: 'test/readme.int.test.ts', cluster: 'test/readme.cluster.test.ts' };
    for (const [runner, file] of Object.entries(runnerFiles)) expect([runner, fs.readFileSync(path.join(ROOT, file), 'utf8')]).toEqual([runner, expect.stringContaining(`blocksFor('${runner}')`)]);
    // CI's script is the test command itself, as the README gives it.
    expect(blocksFor('ci')).toEqual(['npm ci && npm test\n']);
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm ci && npm test$/m);
    expect(blocksFor('quickstart')).toEqual(['npm ci && npm start\n']);
  });

  it('when the README shows a picture or links a document, then the file is there', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(((?:docs|infra)\/[^)#\s]+)\)/g)].map((match) => match[1]!);

    expect(targets).toEqual(expect.arrayContaining(['docs/screenshot.png', 'docs/flow.png', 'docs/SECURITY.md']));
    for (const target of targets) expect([target, fs.existsSync(path.join(ROOT, target))]).toEqual([target, true]);
  });
});
