import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

/** Every program a user runs from npm, by the script that runs it and its built file. */
const PROGRAMS = [
  { script: 'npm start', file: 'launcher/dist/supervise.js' },
  { script: 'npm run status', file: 'launcher/dist/status.js' },
  { script: 'npm run bench', file: 'bench/dist/cli.js' },
  { script: 'npm run chaos', file: 'bench/dist/chaos/cli.js' },
  { script: 'npm run bus:repair', file: 'event-bus/dist/repair.js' },
  { script: 'npm run nats:repair', file: 'event-bus/dist/natsRepair.js' },
  { script: 'npm run k8s:validate', file: 'scripts/k8s/validate-manifests.mjs' },
];

function run(file: string, args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, file), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.each(PROGRAMS)('$script', ({ file }) => {
  it('when asked for --help, then it prints its usage and exits 0', () => {
    const { status, stdout } = run(file, ['--help']);

    expect(status).toBe(0);
    expect(stdout).toMatch(/^usage: /);
  });

  it('when given an unknown option, then it says so on one line and exits 2', () => {
    const { status, stdout, stderr } = run(file, ['--no-such-option']);

    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringContaining("'--no-such-option'")]);
  });
});

it('when a value is not a number, then the bench says which option on one line and exits 2', () => {
  const { status, stderr } = run('bench/dist/cli.js', ['--count', 'many']);

  expect(status).toBe(2);
  expect(stderr.trimEnd().split('\n')).toEqual(['--count must be a positive whole number, not "many"; --help lists the options']);
});
