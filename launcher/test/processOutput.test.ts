import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ProcessOutput } from '../src/supervisor/processOutput';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'process-output-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function output(echo: ((line: string) => void) | null = null) {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.log`);
  return { file, output: new ProcessOutput(file, echo) };
}

describe("a process's output", () => {
  it('when lines arrive in pieces on two streams, then each whole line is echoed once, and the file has every byte', async () => {
    const echoed: string[] = [];
    const { file, output: out } = output((line) => echoed.push(line));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    out.attach(stdout);
    out.attach(stderr);

    stdout.write('hel');
    stderr.write('oo');
    stdout.write('lo\nwor');
    stderr.end('ps\n');
    stdout.end('ld');
    await Promise.all([stdout, stderr].map((stream) => new Promise((resolve) => stream.once('end', resolve))));
    await out.close();

    expect(echoed.sort()).toEqual(['hello', 'oops', 'world']);
    expect(fs.readFileSync(file, 'utf8').length).toBe('hello\nworld'.length + 'oops\n'.length);
  });

  it('when a Node process crashed, then its last words skip the stack frames and the version line', () => {
    const { output: out } = output();
    const stderr = new PassThrough();
    out.attach(stderr);

    stderr.write(['/app/config.js:111', '        throw new Error(problems);', '        ^', '', 'Error: invalid configuration: LOG_LEVEL', '    at readConfig (/app/config.js:111:15)', '    at Object.<anonymous> (/app/index.js:9:82)', '', 'Node.js v20.20.2', ''].join('\n'));

    expect(out.lastWords()).toEqual(['/app/config.js:111', '        throw new Error(problems);', 'Error: invalid configuration: LOG_LEVEL']);
    expect(out.lastLines(1)).toEqual(['Node.js v20.20.2']);
  });

  it('when a server logs the same line again and again with new numbers, then it is kept once with its count, and the lines before it are not pushed out', () => {
    const out = new ProcessOutput(null, null, 3);
    const stderr = new PassThrough();
    out.attach(stderr);

    stderr.write('[12] 03:43:01.101 [WRN] RAFT falling behind, commit 59078 != applied 58988\n');
    for (let probe = 0; probe < 500; probe += 1) stderr.write(`[12] 03:43:${String(probe % 60).padStart(2, '0')}.${probe} [WRN] Healthcheck failed: "JetStream is not current with the meta leader"\n`);

    expect(out.lastLines(3)).toEqual([
      '[12] 03:43:01.101 [WRN] RAFT falling behind, commit 59078 != applied 58988',
      '[12] 03:43:19.499 [WRN] Healthcheck failed: "JetStream is not current with the meta leader"',
      '(the line above came 500 times, differing only in its numbers)',
    ]);
    expect(out.lastWords(1)).toEqual(['[12] 03:43:19.499 [WRN] Healthcheck failed: "JetStream is not current with the meta leader"']);
  });
});
