import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Container, PodTemplateSpec, Service } from 'kubernetes-types/core/v1';

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

/** Sorts documents into workloads (with their single container), Services, Secrets, NetworkPolicies and PodDisruptionBudgets. */
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
  return { documents, workloads, services, secrets, networkPolicies, disruptionBudgets };
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
 * A container's env as the kubelet sets it: literal values, and `secretKeyRef` values read from the
 * manifests' Secrets. A reference the manifests cannot satisfy throws (on a cluster the pod would stay in
 * CreateContainerConfigError), unless it is marked optional, in which case the variable is left out.
 */
export function resolvedEnvOf(container: Container, manifests: Pick<Manifests, 'secrets'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secretValue(manifests, ref.name ?? '', ref.key);
      if (value !== undefined) env[variable.name] = value;
      else if (!ref.optional) throw new Error(`${container.name}: env ${variable.name} refers to key ${ref.key} of Secret ${ref.name}, which the manifests do not have`);
    } else if (variable.valueFrom) {
      throw new Error(`${container.name}: env ${variable.name} uses a valueFrom source the test runners do not resolve`);
    } else {
      env[variable.name] = variable.value ?? '';
    }
  }
  return env;
}

/** The port a URL of the given scheme means when it names none. */
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'nats:': 4222 };

/**
 * The URLs in an env value (one, or several separated by commas, as SUBSCRIBERS and NATS_URL take them)
 * whose scheme a workload here uses to reach a Service: http, https and nats, each with its port.
 */
export function urlsIn(value: string): { url: URL; port: number }[] {
  return value
    .split(',')
    .map((candidate) => candidate.trim())
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
