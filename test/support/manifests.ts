import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Container, EnvVar, PodTemplateSpec, Service } from 'kubernetes-types/core/v1';

export const ROOT = path.resolve(__dirname, '../..');
export const K8S_DIR = path.join(ROOT, 'infra/k8s');
export const INGRESS_DIR = path.join(ROOT, 'infra/ingress');
/** The kustomize overlay over K8S_DIR: NATS JetStream, every service replicated. */
export const SCALE_DIR = path.join(ROOT, 'infra/scale');

export interface ManifestDocument {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
}

export interface Workload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  file: string;
  template: PodTemplateSpec;
  container: Container;
  document: ManifestDocument;
}

export interface SecretDocument extends ManifestDocument {
  kind: 'Secret';
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface Manifests {
  documents: ManifestDocument[];
  workloads: Workload[];
  services: (Service & { metadata: { name: string } })[];
  secrets: SecretDocument[];
  networkPolicies: ManifestDocument[];
  disruptionBudgets: ManifestDocument[];
  configMaps: ConfigMapDocument[];
}

export interface ConfigMapDocument extends ManifestDocument {
  kind: 'ConfigMap';
  data?: Record<string, string>;
}

/** The documents of one YAML text (several separated by ---), each labelled with where it came from. */
function parseDocuments(text: string, file: string): ManifestDocument[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as ManifestDocument | null)
    .filter((document): document is ManifestDocument => document !== null)
    .map((document) => ({ ...document, file }));
}

export function readDocuments(dir: string): ManifestDocument[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .flatMap((name) => parseDocuments(fs.readFileSync(path.join(dir, name), 'utf8'), name));
}

/**
 * What `kubectl kustomize <dir>` renders, as documents (each labelled `kustomize:<dir>`, relative to the
 * repository). Throws, saying what to do, when kubectl is missing or the build fails: an overlay's objects
 * exist nowhere else, so a test of them cannot pass without it. `env` is the environment kubectl runs in
 * (its PATH is where kubectl is looked for).
 */
export function renderKustomization(dir: string, env: NodeJS.ProcessEnv = process.env): ManifestDocument[] {
  const label = `kustomize:${path.relative(ROOT, dir) || '.'}`;
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(`kubectl is not on PATH: the tests of ${path.relative(ROOT, dir)} render it with \`kubectl kustomize\`; install kubectl`);
    }
    throw new Error(`kubectl kustomize ${path.relative(ROOT, dir)} failed: ${(failure.stderr ?? failure.message).trim()}`);
  }
  return parseDocuments(output, label);
}

/** An overlay's rendered objects, classified as loadManifests classifies a folder's (SCALE_DIR by default). */
export const loadKustomized = (dir = SCALE_DIR): Manifests => classify(renderKustomization(dir));

/** Sorts documents into workloads (with their single container), Services, Secrets, NetworkPolicies, PodDisruptionBudgets and ConfigMaps. */
export function classify(documents: ManifestDocument[]): Manifests {
  const workloads = documents
    .filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')
    .map((d) => ({
      kind: d.kind as Workload['kind'],
      name: d.metadata.name,
      file: d.file,
      template: d.spec.template as PodTemplateSpec,
      container: (d.spec.template as PodTemplateSpec).spec!.containers[0]!,
      document: d,
    }));
  const services = documents.filter((d) => d.kind === 'Service') as unknown as Manifests['services'];
  const secrets = documents.filter((d): d is SecretDocument => d.kind === 'Secret');
  const networkPolicies = documents.filter((d) => d.kind === 'NetworkPolicy');
  const disruptionBudgets = documents.filter((d) => d.kind === 'PodDisruptionBudget');
  const configMaps = documents.filter((d): d is ConfigMapDocument => d.kind === 'ConfigMap');
  return { documents, workloads, services, secrets, networkPolicies, disruptionBudgets, configMaps };
}

export const loadManifests = (dir = K8S_DIR): Manifests => classify(readDocuments(dir));

/** A container's literal env values; a variable taken from elsewhere (valueFrom) reads as ''. */
export function envOf(container: Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value ?? '']));
}

/** A Secret's keys and values as a pod sees them: `data` decoded from base64, `stringData` over it (as the API server merges them). */
export function secretData(secret: SecretDocument): Record<string, string> {
  const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  return { ...decoded, ...(secret.stringData ?? {}) };
}

/** One value of a Secret in the manifests, or undefined when the Secret or the key is not there. */
export function secretValue(manifests: Pick<Manifests, 'secrets'>, name: string, key: string): string | undefined {
  const secret = manifests.secrets.find((s) => s.metadata.name === name);
  return secret ? secretData(secret)[key] : undefined;
}

/**
 * `$(NAME)` references in a string, expanded as the kubelet expands an env value, a command or args
 * (Kubernetes' third_party/forked/golang/expansion): a NAME that `lookup` knows gives its value, one it
 * does not stays `$(NAME)` as written, `$$` is one `$` (so `$$(NAME)` is the text `$(NAME)`), and a `$`
 * before anything else, or a `$(` never closed, stays as it is.
 */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let output = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor += 1) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    output += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let consumed = 1;
    if (next === '$') output += '$';
    else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) output += '$(';
      else {
        const name = input.slice(cursor + 2, close);
        output += lookup(name) ?? `$(${name})`;
        consumed = close - cursor;
      }
    } else output += `$${next}`;
    cursor += consumed;
    checkpoint = cursor + 1;
  }
  return output + input.slice(checkpoint);
}

/**
 * A container's env as the kubelet sets it: literal values, with `$(NAME)` expanded from the variables
 * defined before it in the list (a later one, or one never defined, stays `$(NAME)`: see expandVariables),
 * and `secretKeyRef` values read from the manifests' Secrets (never expanded). A reference the manifests
 * cannot satisfy throws (on a cluster the pod would stay in CreateContainerConfigError), unless it is
 * marked optional, in which case the variable is left out. (The kubelet also offers the Service links,
 * `<SERVICE>_SERVICE_HOST` and the like, to `$(...)`; no manifest here uses them, so they are not modelled.)
 */
export function resolvedEnvOf(container: Container, manifests: Pick<Manifests, 'secrets'>): Record<string, string> {
  const env = new Map<string, string>();
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secretValue(manifests, ref.name ?? '', ref.key);
      if (value !== undefined) env.set(variable.name, value);
      else if (!ref.optional) throw new Error(`${container.name}: env ${variable.name} refers to key ${ref.key} of Secret ${ref.name}, which the manifests do not have`);
    } else if (variable.valueFrom) {
      throw new Error(`${container.name}: env ${variable.name} uses a valueFrom source the test runners do not resolve`);
    } else {
      env.set(variable.name, expandVariables(variable.value ?? '', (name) => env.get(name)));
    }
  }
  return Object.fromEntries(env);
}

/**
 * The container's env list with every literal value replaced by what the kubelet makes of it (its `$(NAME)`
 * references expanded, as resolvedEnvOf does), and the other entries (`secretKeyRef`, `fieldRef`) as they
 * are: for runners that read Secrets themselves but do not expand references (podman kube play).
 */
export function expandedEnvList(container: Container, manifests: Pick<Manifests, 'secrets'>): EnvVar[] | undefined {
  if (!container.env) return container.env;
  const needed = container.env.some((variable) => variable.value?.includes('$'));
  if (!needed) return container.env;
  const resolved = resolvedEnvOf({ ...container, env: container.env.filter((variable) => !variable.valueFrom || variable.valueFrom.secretKeyRef) }, manifests);
  return container.env.map((variable) => (variable.value !== undefined && variable.name in resolved ? { ...variable, value: resolved[variable.name]! } : variable));
}

/** The port a URL of the given scheme means when it names none. */
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'nats:': 4222 };

/** `name=` before a URL, as the bus's SUBSCRIBERS names each subscriber (posts=http://...). */
export const SUBSCRIBER_NAME = /^([a-z][a-z0-9-]*)=(?=(?:https?|nats):\/\/)/;

/**
 * The URLs in an env value (one, or several separated by commas, as SUBSCRIBERS and NATS_URL take them,
 * each perhaps after a subscriber's `name=`) whose scheme a workload here uses to reach a Service: http,
 * https and nats, each with its port.
 */
export function urlsIn(value: string): { url: URL; port: number }[] {
  return value
    .split(',')
    .map((candidate) => candidate.trim().replace(SUBSCRIBER_NAME, ''))
    .filter((candidate) => /^(https?|nats):\/\//.test(candidate))
    .map((candidate) => {
      const url = new URL(candidate);
      return { url, port: Number(url.port || DEFAULT_PORTS[url.protocol]) };
    });
}

/** The container port a Service's targetPort names (by port name or number), if the container has it. */
export function resolveTargetPort(container: Container, targetPort: string | number | undefined): number | undefined {
  const port = (container.ports ?? []).find((p) => p.name === targetPort || p.containerPort === targetPort);
  return port?.containerPort;
}

export function selects(service: Service, workload: Workload): boolean {
  const selector = service.spec?.selector ?? {};
  const labels = workload.template.metadata?.labels ?? {};
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** The workload image's service folder: blog/posts:1.0.0 -> posts. */
export function serviceOfImage(image: string): { folder: string; tag: string } | undefined {
  const match = /^(?:docker\.io\/)?blog\/([a-z-]+):(.+)$/.exec(image);
  return match ? { folder: match[1]!, tag: match[2]! } : undefined;
}
