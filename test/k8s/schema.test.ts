import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { INGRESS_DIR, K8S_DIR, ROOT } from '../support/manifests';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';

const VALIDATOR = path.join(ROOT, 'scripts/k8s/validate-manifests.mjs');

function validate(...targets: string[]) {
  const result = spawnSync(process.execPath, [VALIDATOR, ...targets], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes a copy of one manifest file with one change made to one of its documents, and answers the copy's path. */
function mutated(name: string, change: (document: any) => void, index = 0): string {
  const documents = parseAllDocuments(fs.readFileSync(path.join(K8S_DIR, name), 'utf8')).map((d) => d.toJS());
  change(documents[index]);
  const dir = makeTempDir('manifests-');
  const file = path.join(dir, name);
  fs.writeFileSync(file, documents.map((d) => stringify(d)).join('---\n'));
  return file;
}

/** Writes posts.yaml with one change made to its Deployment, and answers the file's path. */
const mutatedPosts = (change: (deployment: any) => void) => mutated('posts.yaml', change);
/** network-policies.yaml with one change to its policy for the bus. */
const mutatedBusPolicy = (change: (policy: any) => void) => mutated('network-policies.yaml', change, 1);
const mutatedSecret = (change: (secret: any) => void) => mutated('bus-credentials.yaml', change);

describe('every manifest against the Kubernetes API schemas', () => {
  it('when infra/k8s and infra/ingress are validated, then every document passes', () => {
    const { status, output } = validate('infra/k8s', 'infra/ingress');
    expect(output).not.toMatch(/FAIL/);
    expect(status).toBe(0);
    // Only the manifest files: infra/k8s/Kustomization (the base of infra/scale) is not an API object.
    const manifestFiles = (dir: string) => fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    const documents = [K8S_DIR, INGRESS_DIR].flatMap((dir) => manifestFiles(dir).flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8'))));
    expect(output.match(/^ok /gm)?.length).toBe(documents.length);
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

  it.each([
    ['a misspelled rule field', (p: any) => (p.spec.ingress[0].form = p.spec.ingress[0].from), /ingress\[0\]\.form: unknown field \(not in V1NetworkPolicyIngressRule\)/],
    ['no podSelector', (p: any) => delete p.spec.podSelector, /spec must have required property podSelector/],
    ['an unknown policy type', (p: any) => (p.spec.policyTypes = ['Ingres']), /policyTypes\/0 must be equal to one of the allowed values/],
    ['an unknown protocol', (p: any) => (p.spec.ingress[0].ports[0].protocol = 'HTTP'), /protocol must be equal to one of the allowed values/],
    ['a port out of range', (p: any) => (p.spec.ingress[0].ports[0].port = 70000), /port: 70000 is not in 1-65535/],
    ['a port number written as a string', (p: any) => (p.spec.ingress[0].ports[0].port = '4005'), /port: "4005" is neither a number nor a port name/],
    ['a lower-case selector operator', (p: any) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'in', values: ['event-bus'] }] }), /operator: in is not In, NotIn, Exists or DoesNotExist/],
    ['a label value with a space', (p: any) => (p.spec.ingress[0].from[0].podSelector.matchLabels.app = 'event bus'), /"event bus" is not a valid label value/],
    ['an empty peer', (p: any) => p.spec.ingress[0].from.push({}), /a peer needs podSelector, namespaceSelector or ipBlock/],
    ['a CIDR that is not one', (p: any) => p.spec.ingress[0].from.push({ ipBlock: { cidr: '10.0.0.0/33' } }), /"10.0.0.0\/33" is not a CIDR/],
    ['egress rules that policyTypes ignores', (p: any) => (p.spec.egress = [{}]), /egress: given, but policyTypes leaves out Egress/],
  ])('when a NetworkPolicy has %s, then validation fails and names it', (_name, change, message) => {
    const { status, output } = validate(mutatedBusPolicy(change));
    expect(status).toBe(1);
    expect(output).toMatch(message);
  });

  it.each([
    ['a misspelled field', (s: any) => ((s.stringdata = s.stringData), delete s.stringData), /\.stringdata: unknown field \(not in V1Secret\)/],
    ['plain text in data', (s: any) => ((s.data = { token: 'not base64!' }), delete s.stringData), /data\.token: not base64/],
    ['a key with a space', (s: any) => (s.stringData = { 'bus token': 'x' }), /stringData\.bus token: a key may hold only/],
    ['a number for a value', (s: any) => (s.stringData.token = 42), /stringData\/token must be string/],
  ])('when the Secret has %s, then validation fails and names it', (_name, change, message) => {
    const { status, output } = validate(mutatedSecret(change));
    expect(status).toBe(1);
    expect(output).toMatch(message);
  });

  it('when a container env has both a value and a secretKeyRef, then validation fails', () => {
    const { status, output } = validate(
      mutatedPosts((d) => (d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'BUS_TOKEN').value = 'literal')),
    );
    expect(status).toBe(1);
    expect(output).toMatch(/env\[\d\] \(BUS_TOKEN\): value and valueFrom cannot both be set/);
  });

  it('when a document has an unknown kind, then validation fails', () => {
    const { status, output } = validate(mutatedPosts((d) => (d.kind = 'Deploymnet')));
    expect(status).toBe(1);
    expect(output).toMatch(/unknown kind/);
  });
});

afterAll(removeTempDirs);
