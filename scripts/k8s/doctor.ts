/**
 * npm run k8s:doctor — explains why the blog's pods are not running on a local cluster, and prints the
 * command that fixes each problem. It only reads: kubectl's context, the cluster's images and pods.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const MANIFESTS = path.join(ROOT, 'infra/k8s');

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

function manifestImages(): string[] {
  const images = new Set<string>();
  for (const file of fs.readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(fs.readFileSync(path.join(MANIFESTS, file), 'utf8'))) {
      const spec = document.toJS()?.spec?.template?.spec;
      for (const container of spec?.containers ?? []) images.add(container.image);
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

function imageFindings(kind: ClusterKind, context: string): Finding[] {
  const present = clusterImages(kind, context);
  if (!present) {
    return kind === 'other'
      ? []
      : [{ problem: `could not list the images in the ${kind} cluster`, fix: 'check that the cluster is running' }];
  }
  return manifestImages()
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

function fixFor(reason: string, pod: Pod, image: string, message: string): string {
  const workload = pod.metadata.ownerReferences?.[0]?.kind === 'StatefulSet' ? 'statefulset/event-bus' : `deployment/${pod.metadata.labels?.app ?? '?'}-depl`;
  if (reason === 'CrashLoopBackOff') {
    return `kubectl logs ${pod.metadata.name} --previous   (the last crash's output; is event-bus Running? kubectl get pods)`;
  }
  if (reason === 'CreateContainerConfigError') {
    // Every workload takes BUS_TOKEN from this Secret; without it no pod of the app can start.
    if (/secret "bus-token" not found/.test(message)) {
      return 'kubectl apply -f infra/k8s/bus-token.yaml   (the bus token Secret; README, "The bus token", to use a random one)';
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

export function main(): number {
  const context = run('kubectl', ['config', 'current-context']);
  if (!context.ok || !context.out) {
    console.log('kubectl has no current context: start Docker Desktop\'s Kubernetes, `minikube start` or `kind create cluster`.');
    return 1;
  }
  const kind = clusterKindOf(context.out);
  console.log(`kubectl context: ${context.out} (${kind === 'other' ? 'not a cluster this doctor knows' : kind})`);
  const findings = [...imageFindings(kind, context.out), ...podFindings()];
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
