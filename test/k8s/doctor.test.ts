import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { clusterKindOf } from '../../scripts/k8s/doctor';
import { ROOT, loadManifests } from '../support/manifests';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';

/** Puts stand-ins for kubectl and docker on PATH that answer like a kind cluster with broken pods. */
function fakeCluster({ missingImage, pods, eventMessage }: { missingImage?: string; pods: object[]; eventMessage?: string }): string {
  const bin = makeTempDir('doctor-bin-');
  const images = loadManifests()
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
  *) echo "unexpected kubectl $*" >&2; exit 2 ;;
esac`,
  );
  write(
    'docker',
    `if [ "$*" = "exec blog-control-plane crictl images -o json" ]; then echo '${JSON.stringify({ images })}'; else echo "unexpected docker $*" >&2; exit 2; fi`,
  );
  return bin;
}

function doctor(bin: string) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/ts-node/dist/bin.js'), '--project', 'scripts/tsconfig.json', '--transpile-only', 'scripts/k8s/doctor.ts'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

const waitingPod = (name: string, app: string, reason: string) => ({
  metadata: { name, labels: { app }, ownerReferences: [{ kind: 'ReplicaSet', name: `${app}-depl-1` }] },
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

  it('when the bus token Secret is missing, then it says to apply it', () => {
    const bin = fakeCluster({
      pods: [waitingPod('comments-depl-4b1e', 'comments', 'CreateContainerConfigError')],
      eventMessage: 'Error: secret "bus-token" not found',
    });
    const { status, output } = doctor(bin);
    expect(status).toBe(1);
    expect(output).toContain('PROBLEM  pod comments-depl-4b1e is in CreateContainerConfigError: Error: secret "bus-token" not found');
    expect(output).toContain('FIX      kubectl apply -f infra/k8s/bus-token.yaml');
  });

  it('when every image is present and no pod is stuck, then it says so and how to reach the API', () => {
    const { status, output } = doctor(fakeCluster({ pods: [] }));
    expect(status).toBe(0);
    expect(output).toContain('No problems found');
    expect(output).toContain('kubectl port-forward service/posts-srv 4000:4000');
  });
});

afterAll(removeTempDirs);
