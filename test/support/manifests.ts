import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Container, PodTemplateSpec, Service } from 'kubernetes-types/core/v1';

export const ROOT = path.resolve(__dirname, '../..');
export const K8S_DIR = path.join(ROOT, 'infra/k8s');
export const INGRESS_DIR = path.join(ROOT, 'infra/ingress');

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

export interface Manifests {
  documents: ManifestDocument[];
  workloads: Workload[];
  services: (Service & { metadata: { name: string } })[];
}

export function readDocuments(dir: string): ManifestDocument[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .flatMap((name) =>
      parseAllDocuments(fs.readFileSync(path.join(dir, name), 'utf8'))
        .map((document) => document.toJS() as ManifestDocument | null)
        .filter((document): document is ManifestDocument => document !== null)
        .map((document) => ({ ...document, file: name })),
    );
}

/** Sorts documents into workloads (with their single container) and Services. */
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
  return { documents, workloads, services };
}

export const loadManifests = (dir = K8S_DIR): Manifests => classify(readDocuments(dir));

export function envOf(container: Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value ?? '']));
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
