/**
 * npm run k8s:doctor — explains why the blog's pods are not running on a local cluster, and prints the
 * command that fixes each problem. It only reads: kubectl's context, the cluster's images and pods.
 *
 *   npm run k8s:doctor                 for kubectl apply -f infra/k8s
 *   npm run k8s:doctor -- --scale      for kubectl apply -k infra/scale
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const MANIFESTS = path.join(ROOT, 'infra/k8s');
const OVERLAY = path.join(ROOT, 'infra/scale');

type ClusterKind = 'docker-desktop' | 'minikube' | 'kind' | 'other';

interface Finding {
  problem: string;
  fix: string;
}

function run(command: string, args: string[]): { ok: boolean; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.status === 0 ? '' : result.stderr ?? ''}`.trim() };
}

export function clusterKindOf(context: string): ClusterKind {
  if (context === 'docker-desktop' || context === 'docker-for-desktop') return 'docker-desktop';
  if (context === 'minikube') return 'minikube';
  if (context.startsWith('kind-')) return 'kind';
  return 'other';
}

/** The YAML texts of what is applied: infra/k8s's files, or what kustomize renders for infra/scale. */
function manifestTexts(scale: boolean): string[] {
  if (!scale) return fs.readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml')).map((f) => fs.readFileSync(path.join(MANIFESTS, f), 'utf8'));
  const rendered = run('kubectl', ['kustomize', OVERLAY]);
  if (!rendered.ok) throw new Error(`kubectl kustomize infra/scale failed: ${rendered.out}`);
  return [rendered.out];
}

/**
 * The project's own images the manifests run (blog/<service>:<tag>): built locally, so no registry has
 * them. The official images (infra/scale's NATS) the cluster pulls by itself on first use.
 */
function manifestImages(scale: boolean): string[] {
  const images = new Set<string>();
  for (const text of manifestTexts(scale)) {
    for (const document of parseAllDocuments(text)) {
      const spec = document.toJS()?.spec?.template?.spec;
      for (const container of spec?.containers ?? []) if (/^(docker\.io\/)?blog\//.test(container.image)) images.add(container.image);
    }
  }
  return [...images].sort();
}

/** Docker Hub short names as a container runtime spells them in full. */
const fullName = (image: string) => (image.includes('/') && !image.split('/')[0]!.includes('.') ? `docker.io/${image}` : image);

/** The images the cluster's runtime has, or null when they cannot be listed. */
function clusterImages(kind: ClusterKind, context: string): Set<string> | null {
  if (kind === 'docker-desktop') {
    const listed = run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    return listed.ok ? new Set(listed.out.split('\n').filter(Boolean).map(fullName)) : null;
  }
  if (kind === 'minikube') {
    const listed = run('minikube', ['image', 'ls']);
    return listed.ok ? new Set(listed.out.split('\n').filter(Boolean).map(fullName)) : null;
  }
  if (kind === 'kind') {
    const node = `${context.slice('kind-'.length)}-control-plane`;
    const listed = run('docker', ['exec', node, 'crictl', 'images', '-o', 'json']);
    if (!listed.ok) return null;
    const parsed = JSON.parse(listed.out) as { images: { repoTags: string[] }[] };
    return new Set(parsed.images.flatMap((image) => image.repoTags).map(fullName));
  }
  return null;
}

function imageFindings(kind: ClusterKind, context: string, scale: boolean): Finding[] {
  const present = clusterImages(kind, context);
  if (!present) {
    return kind === 'other'
      ? []
      : [{ problem: `could not list the images in the ${kind} cluster`, fix: 'check that the cluster is running' }];
  }
  let images: string[];
  try {
    images = manifestImages(scale);
  } catch (error) {
    return [{ problem: (error as Error).message, fix: 'kubectl kustomize infra/scale   (needs kubectl on PATH; its error names the file at fault)' }];
  }
  return images
    .filter((image) => !present.has(fullName(image)))
    .map((image) => ({
      problem: `image ${image} is not in the ${kind} cluster's image store`,
      fix: 'npm run images   (builds every image and loads it into kind or minikube)',
    }));
}

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  status?: { containerStatuses?: { name: string; image: string; state?: { waiting?: { reason?: string; message?: string } } }[] };
}

const WAITING_PROBLEMS = new Set(['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull', 'CrashLoopBackOff', 'CreateContainerConfigError']);

function lastEventMessage(pod: string): string | undefined {
  const events = run('kubectl', ['get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'json']);
  if (!events.ok) return undefined;
  const items = (JSON.parse(events.out) as { items: { type?: string; message?: string; lastTimestamp?: string }[] }).items;
  const warnings = items.filter((event) => event.type === 'Warning');
  return (warnings.length > 0 ? warnings : items).at(-1)?.message;
}

/** The workload that owns a pod, as kubectl names it: a StatefulSet directly, a Deployment through its ReplicaSet (<deployment>-<hash>). */
function workloadOf(pod: Pod): string {
  const owner = pod.metadata.ownerReferences?.[0];
  if (owner?.kind === 'StatefulSet') return `statefulset/${owner.name}`;
  if (owner?.kind === 'ReplicaSet') return `deployment/${owner.name.replace(/-[^-]+$/, '')}`;
  return `deployment/${pod.metadata.labels?.app ?? '?'}-depl`;
}

function fixFor(reason: string, pod: Pod, image: string, message: string): string {
  const workload = workloadOf(pod);
  if (reason === 'CrashLoopBackOff') {
    return `kubectl logs ${pod.metadata.name} --previous   (the last crash's output; is event-bus Running, and nats with infra/scale? kubectl get pods)`;
  }
  if (reason === 'CreateContainerConfigError') {
    // Each service takes BUS_TOKEN from its own credential Secret, and the bus takes all five; a pod
    // missing one does not start.
    if (/secret "[a-z0-9-]+-bus-credential" not found/.test(message)) {
      return 'kubectl apply -f infra/k8s/bus-credentials.yaml   (the bus credential Secrets; docs/KUBERNETES.md, "The bus credentials", to use random ones)';
    }
    // infra/scale: the gateway's NATS password, which the NATS servers read too.
    if (/secret "event-bus-nats-credential" not found/.test(message)) {
      return 'kubectl apply -f infra/scale/event-bus-nats-credential.yaml   (the gateway\'s NATS password; docs/KUBERNETES.md, "The bus credentials", to use a random one)';
    }
    return `kubectl describe pod ${pod.metadata.name}`;
  }
  return `npm run images && kubectl rollout restart ${workload}   (${image} must be in the cluster's image store; it is never pulled from a registry)`;
}

function podFindings(): Finding[] {
  const pods = run('kubectl', ['get', 'pods', '-l', 'app.kubernetes.io/part-of=blog', '-o', 'json']);
  if (!pods.ok) return [{ problem: `kubectl get pods failed: ${pods.out}`, fix: 'check that the cluster is running: kubectl cluster-info' }];
  const findings: Finding[] = [];
  for (const pod of (JSON.parse(pods.out) as { items: Pod[] }).items) {
    for (const status of pod.status?.containerStatuses ?? []) {
      const reason = status.state?.waiting?.reason;
      if (!reason || !WAITING_PROBLEMS.has(reason)) continue;
      const event = lastEventMessage(pod.metadata.name) ?? status.state?.waiting?.message ?? 'no event recorded';
      findings.push({ problem: `pod ${pod.metadata.name} is in ${reason}: ${event}`, fix: fixFor(reason, pod, status.image, event) });
    }
  }
  return findings;
}

const USAGE = `usage: npm run k8s:doctor -- [--scale]
  asks the current kubectl context why the blog is not running there: images the cluster cannot see,
  pods stuck, and the fix for each
  --scale  check infra/scale (kubectl apply -k) instead of infra/k8s`;

export function main(args: string[] = process.argv.slice(2)): number {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const unknown = args.find((arg) => arg !== '--scale');
  if (unknown !== undefined) {
    console.error(`Unknown option '${unknown}'; --help lists the options`);
    return 2;
  }
  const scale = args.includes('--scale');
  const context = run('kubectl', ['config', 'current-context']);
  if (!context.ok || !context.out) {
    console.log('kubectl has no current context: start Docker Desktop\'s Kubernetes, `minikube start` or `kind create cluster`.');
    return 1;
  }
  const kind = clusterKindOf(context.out);
  console.log(`kubectl context: ${context.out} (${kind === 'other' ? 'not a cluster this doctor knows' : kind})`);
  console.log(`manifests: ${scale ? 'infra/scale (kubectl apply -k)' : 'infra/k8s (kubectl apply -f; --scale for infra/scale)'}`);
  const findings = [...imageFindings(kind, context.out, scale), ...podFindings()];
  for (const finding of findings) {
    console.log(`\nPROBLEM  ${finding.problem}\nFIX      ${finding.fix}`);
  }
  if (findings.length === 0) {
    console.log('\nNo problems found: every image is in the cluster and no pod is stuck.');
    console.log('Reach the posts API with: kubectl port-forward service/posts-srv 4000:4000   then curl localhost:4000/posts');
    return 0;
  }
  console.log(`\n${findings.length} problem(s) found.`);
  return 1;
}

if (require.main === module) process.exit(main());
