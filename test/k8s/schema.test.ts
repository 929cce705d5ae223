import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { K8S_DIR, ROOT } from '../support/manifests';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';

const VALIDATOR = path.join(ROOT, 'scripts/k8s/validate-manifests.mjs');

function validate(...targets: string[]) {
  const result = spawnSync(process.execPath, [VALIDATOR, ...targets], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes posts.yaml with one change made to its Deployment, and answers the file's path. */
function mutatedPosts(change: (deployment: any) => void): string {
  const documents = parseAllDocuments(fs.readFileSync(path.join(K8S_DIR, 'posts.yaml'), 'utf8')).map((d) => d.toJS());
  change(documents[0]);
  const dir = makeTempDir('manifests-');
  const file = path.join(dir, 'posts.yaml');
  fs.writeFileSync(file, documents.map((d) => stringify(d)).join('---\n'));
  return file;
}

describe('every manifest against the Kubernetes API schemas', () => {
  it('when infra/k8s and infra/ingress are validated, then every document passes', () => {
    const { status, output } = validate('infra/k8s', 'infra/ingress');
    expect(output).not.toMatch(/FAIL/);
    expect(status).toBe(0);
    const documents = fs.readdirSync(K8S_DIR).flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(K8S_DIR, f), 'utf8')));
    expect(output.match(/^ok /gm)?.length).toBe(documents.length + 3);
  });

  it('when the validator is run with no arguments, then it checks the default folders', () => {
    expect(execFileSync(process.execPath, [VALIDATOR], { cwd: ROOT, encoding: 'utf8' })).toMatch(/all manifests are valid/);
  });

  it.each([
    ['a misspelled container field', (d: any) => (d.spec.template.spec.containers[0].imagePullPolicyy = 'IfNotPresent'), /imagePullPolicyy: unknown field/],
    ['a misspelled spec field', (d: any) => (d.spec.replica = 1), /\.spec\.replica: unknown field/],
    ['a field at the wrong level', (d: any) => (d.spec.template.spec.readinessProbe = {}), /spec\.template\.spec\.readinessProbe: unknown field/],
    ['a wrong type', (d: any) => (d.spec.replicas = 'one'), /replicas must be integer/],
    ['a port given as a string', (d: any) => (d.spec.template.spec.containers[0].ports[0].containerPort = '4000'), /containerPort must be integer/],
    ['an unknown enum value', (d: any) => (d.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'), /imagePullPolicy must be equal to one of the allowed values/],
    ['a missing required field', (d: any) => delete d.spec.selector, /spec must have required property selector/],
  ])('when a manifest has %s, then validation fails and names it', (_name, change, message) => {
    const { status, output } = validate(mutatedPosts(change));
    expect(status).toBe(1);
    expect(output).toMatch(message);
  });

  it('when a document has an unknown kind, then validation fails', () => {
    const { status, output } = validate(mutatedPosts((d) => (d.kind = 'Deploymnet')));
    expect(status).toBe(1);
    expect(output).toMatch(/unknown kind/);
  });
});

afterAll(removeTempDirs);
