import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { clusterKindOf } from '../../scripts/k8s/doctor';
import { ROOT, loadKustomized, loadManifests } from '../support/manifests';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';

/** The real kubectl, which the stand-in below hands `kubectl kustomize` to (rendering needs no cluster). */
const REAL_KUBECTL = spawnSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();

/**
 * Puts stand-ins for kubectl and docker on PATH that answer like a kind cluster with broken pods; its image
 * store has the images of `manifests` (infra/k8s by default) but `missingImage`.
 */
function fakeCluster({ missingImage, pods, eventMessage, manifests = loadManifests() }: { missingImage?: string; pods: object[]; eventMessage?: string; manifests?: ReturnType<typeof loadManifests> }): string {
  const bin = makeTempDir('doctor-bin-');
  const images = manifests
    .workloads.map((w) => w.container.image!)
    .filter((image) => image !== missingImage)
    .map((image) => ({ repoTags: [`docker.io/${image}`] }));
  const events = {
    items: [{ type: 'Warning', message: eventMessage ?? 'Container image "blog/posts:1.0.0" is not present with pull policy of Never' }],
  };
  const write = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  write(
    'kubectl',
    `case "$*" in
  "config current-context") echo kind-blog ;;
  get\\ pods*) echo '${JSON.stringify({ items: pods })}' ;;
  get\\ events*) echo '${JSON.stringify(events)}' ;;
  kustomize\\ *) exec '${REAL_KUBECTL}' "$@" ;;
  *) echo "unexpected kubectl $*" >&2; exit 2 ;;
esac`,
  );
  write(
    'docker',
    `if [ "$*" = "exec blog-control-plane crictl images -o json" ]; then echo '${JSON.stringify({ images })}'; else echo "unexpected docker $*" >&2; exit 2; fi`,
  );
  return bin;
}

function doctor(bin: string, ...args: string[]) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/ts-node/dist/bin.js'), '--project', 'scripts/tsconfig.json', '--transpile-only', 'scripts/k8s/doctor.ts', ...args],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

const waitingPod = (name: string, app: string, reason: string, owner = { kind: 'ReplicaSet', name: `${app}-depl-1` }) => ({
  metadata: { name, labels: { app }, ownerReferences: [owner] },
  status: { containerStatuses: [{ name: app, image: `blog/${app}:1.0.0`, state: { waiting: { reason } } }] },
});

describe('npm run k8s:doctor', () => {
  it.each([
    ['docker-desktop', 'docker-desktop'],
    ['minikube', 'minikube'],
    ['kind-blog', 'kind'],
    ['gke_project_zone_cluster', 'other'],
  ])('recognises the context %s as %s', (context, kind) => {
    expect(clusterKindOf(context)).toBe(kind);
  });

  it('when an image is missing and pods are stuck, then it names each problem with its event and the fixing command', () => {
    const bin = fakeCluster({
      missingImage: 'blog/posts:1.0.0',
      pods: [waitingPod('posts-depl-7d9f', 'posts', 'ErrImageNeverPull'), waitingPod('query-depl-5c2a', 'query', 'CrashLoopBackOff')],
    });

    const { status, output } = doctor(bin);

    expect(status).toBe(1);
    expect(output).toContain('kubectl context: kind-blog (kind)');
    expect(output).toContain("PROBLEM  image blog/posts:1.0.0 is not in the kind cluster's image store");
    expect(output).toContain('PROBLEM  pod posts-depl-7d9f is in ErrImageNeverPull: Container image "blog/posts:1.0.0" is not present');
    expect(output).toContain('FIX      npm run images && kubectl rollout restart deployment/posts-depl');
    expect(output).toContain('PROBLEM  pod query-depl-5c2a is in CrashLoopBackOff');
    expect(output).toContain('FIX      kubectl logs query-depl-5c2a --previous');
    expect(output).toContain('3 problem(s) found.');
  });

  it.each([
    ['comments-depl-4b1e', 'comments', 'comments-bus-credential', 'kubectl apply -f infra/k8s/bus-credentials.yaml'],
    ['posts-depl-9c3f', 'posts', 'posts-bus-credential', 'kubectl apply -f infra/k8s/bus-credentials.yaml'],
    // The bus reads every caller's, the operator's included, which no service holds.
    ['event-bus-0', 'event-bus', 'operator-bus-credential', 'kubectl apply -f infra/k8s/bus-credentials.yaml'],
    ['event-bus-7c9d5-x2x4q', 'event-bus', 'event-bus-nats-credential', 'kubectl apply -f infra/scale/event-bus-nats-credential.yaml'],
  ])('when the Secret a pod of %s reads is missing, then it says which file to apply', (pod, app, secret, fix) => {
    const bin = fakeCluster({
      pods: [waitingPod(pod, app, 'CreateContainerConfigError')],
      eventMessage: `Error: secret "${secret}" not found`,
    });
    const { status, output } = doctor(bin);
    expect(status).toBe(1);
    expect(output).toContain(`PROBLEM  pod ${pod} is in CreateContainerConfigError: Error: secret "${secret}" not found`);
    expect(output).toContain(`FIX      ${fix}`);
  });

  it('when every image is present and no pod is stuck, then it says so and how to reach the API', () => {
    const { status, output } = doctor(fakeCluster({ pods: [] }));
    expect(status).toBe(0);
    expect(output).toContain('No problems found');
    expect(output).toContain('kubectl port-forward service/posts-srv 4000:4000');
  });
});

describe('npm run k8s:doctor -- --scale (for kubectl apply -k infra/scale)', () => {
  it('when a service image is missing, then --scale says so too; the official NATS image is not asked for: the cluster pulls it', () => {
    const missing = doctor(fakeCluster({ missingImage: 'blog/event-bus:1.0.0', pods: [], manifests: loadKustomized() }), '--scale');
    expect(missing.status).toBe(1);
    expect(missing.output).toContain('manifests: infra/scale');
    expect(missing.output).toContain("PROBLEM  image blog/event-bus:1.0.0 is not in the kind cluster's image store");
    expect(missing.output).toContain('FIX      npm run images');
    const nats = loadKustomized().workloads.find((w) => w.name === 'nats')!.container.image!;
    const pulled = doctor(fakeCluster({ missingImage: nats, pods: [], manifests: loadKustomized() }), '--scale');
    expect(pulled.output).toContain('No problems found');
  });

  it('when NATS and gateway pods are stuck, then the fix restarts the workload that owns each', () => {
    const bin = fakeCluster({
      pods: [
        waitingPod('nats-1', 'nats', 'ErrImageNeverPull', { kind: 'StatefulSet', name: 'nats' }),
        waitingPod('event-bus-7c9d5-x2x4q', 'event-bus', 'ErrImageNeverPull', { kind: 'ReplicaSet', name: 'event-bus-7c9d5' }),
      ],
      manifests: loadKustomized(),
    });
    const { output } = doctor(bin, '--scale');
    expect(output).toContain('PROBLEM  pod nats-1 is in ErrImageNeverPull');
    expect(output).toContain('FIX      npm run images && kubectl rollout restart statefulset/nats');
    expect(output).toContain('FIX      npm run images && kubectl rollout restart deployment/event-bus ');
  });
});

afterAll(removeTempDirs);
