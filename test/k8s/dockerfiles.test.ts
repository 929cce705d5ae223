import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type From } from 'dockerfile-ast';
import { dockerfilePath, readDockerfile } from '../support/dockerfiles';
import { ROOT, loadKustomized } from '../support/manifests';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';

const SERVICES = ['event-bus', 'posts', 'comments', 'moderation', 'query', 'client'];
const LINTER = path.join(ROOT, 'node_modules/.bin/dockerfilelint');

interface LintReport {
  totalIssues: number;
  files: { file: string; issues: { line: string; title: string }[] }[];
}

function lint(...files: string[]): LintReport {
  if (!fs.existsSync(LINTER)) throw new Error('dockerfilelint is not installed: run npm ci');
  const result = spawnSync(LINTER, ['-j', ...files], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(result.stdout) as LintReport;
}

describe('Dockerfile lint (dockerfilelint)', () => {
  it('when every Dockerfile is linted, then there are no issues', () => {
    const report = lint(...SERVICES.map((s) => `${s}/Dockerfile`));
    expect(report.files.flatMap((f) => f.issues.map((i) => `${f.file}:${i.line} ${i.title}`))).toEqual([]);
    expect(report.files).toHaveLength(SERVICES.length);
  });

  it('when a Dockerfile uses a latest base and a blocking apt-get, then the linter reports both', () => {
    const bad = path.join(makeTempDir('lint-'), 'Dockerfile');
    fs.writeFileSync(bad, 'FROM node:latest\nRUN apt-get install curl\n');
    const titles = lint(bad).files[0]!.issues.map((i) => i.title);
    expect(titles).toEqual(expect.arrayContaining(['Base Image Latest Tag', 'Missing parameter for `apt-get`']));
  });
});

describe.each(SERVICES)('%s/Dockerfile', (service) => {
  const facts = readDockerfile(service);

  it('builds in stages from the official Node 24 (LTS) slim image', () => {
    expect(facts.bases.length).toBeGreaterThanOrEqual(2);
    for (const base of facts.bases) expect(base).toBe('node:24-trixie-slim');
  });

  it('runs as the node user in production mode', () => {
    expect(facts.runtime.user).toBe('node');
    expect(facts.runtime.env.NODE_ENV).toBe('production');
  });

  it('starts node directly on the built entry point, so SIGTERM reaches it', () => {
    expect(facts.runtime.cmd).toEqual(['node', `${service}/dist/index.js`]);
    expect(facts.runtime.workdir).toBe('/app');
    const dockerfile = fs.readFileSync(dockerfilePath(service), 'utf8');
    expect(dockerfile).toContain(`--omit=dev --workspace @blog/${service}`);
  });
});

/**
 * The instructions of one named stage of a service's Dockerfile, each as one line with its whitespace
 * collapsed (a RUN continued over several lines reads as one), from its FROM down to and including the
 * first instruction that `until` matches (to the end of the stage when none does).
 */
function stageInstructions(service: string, stage: string, until?: RegExp): string[] {
  const dockerfile = DockerfileParser.parse(fs.readFileSync(dockerfilePath(service), 'utf8'));
  const lines: string[] = [];
  let inStage = false;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      if (inStage) break;
      inStage = (instruction as From).getBuildStage() === stage;
    }
    if (!inStage) continue;
    const line = `${keyword} ${(instruction.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ').replace(/\s+/g, ' ').trim()}`;
    lines.push(line);
    if (until?.test(line)) break;
  }
  return lines;
}

describe('the build stage', () => {
  // Identical steps over the same files are built once and reused by the builder (docker, podman), so
  // building all six images installs the dev dependencies and compiles the shared packages once instead of six times
  // (most of what keeps npm run test:containers, which builds them all, short).
  const shared = (service: string) => stageInstructions(service, 'build', /^RUN npx tsc -b service-kit$/);

  it('is the same in every Dockerfile down to compiling the shared packages', () => {
    const first = shared(SERVICES[0]!);
    expect(first.at(-1)).toBe('RUN npx tsc -b service-kit');
    for (const service of SERVICES.slice(1)) expect({ service, steps: shared(service) }).toEqual({ service, steps: first });
  });

  it('installs the dev dependencies of every image it is shared by, from their own package files', () => {
    const steps = shared(SERVICES[0]!);
    for (const workspace of ['contracts', 'service-kit', ...SERVICES]) {
      expect(steps).toContain(`COPY ${workspace}/package.json ${workspace}/`);
      expect(steps.find((step) => step.startsWith('RUN npm ci'))).toMatch(new RegExp(`--workspace @blog/${workspace}( |$)`));
    }
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, data and tests out of the build context', () => {
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '**/data', '**/test', '.git']));
  });
});

afterAll(removeTempDirs);
