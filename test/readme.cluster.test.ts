import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { blocksFor } from './support/readmeBlocks';
import { makeTempDir, removeTempDirs } from './support/tempDirs';

/**
 * The README's Kubernetes commands, run as written against a kubectl and a docker that check each
 * command against the manifests instead of a cluster (test/support/fake-cluster): a Deployment, a
 * container, a Service port, a Secret or a file the README names and the manifests lack fails here, as
 * it would on a real cluster. `npm run images` runs the real build script with the fake docker.
 */
const ROOT = path.resolve(__dirname, '..');
const FAKES = path.join(__dirname, 'support', 'fake-cluster', 'bin');
const run = promisify(execFile);
jest.setTimeout(120_000);

afterAll(() => removeTempDirs());

interface Call {
  tool: string;
  args: string[];
}

it("runs every Kubernetes command of the README against the manifests: each object, container, port and file it names exists", async () => {
  const log = path.join(makeTempDir('readme-cluster-'), 'calls.jsonl');
  const blocks = blocksFor('cluster');
  expect(blocks.length).toBeGreaterThanOrEqual(4);

  await run('bash', ['-e', '-o', 'pipefail', '-c', blocks.join('\n')], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${FAKES}:${process.env.PATH}`, FAKE_CLUSTER_LOG: log, CONTAINER_ENGINE: 'docker' },
  });

  const calls = fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Call);
  const kubectl = calls.filter((call) => call.tool === 'kubectl').map((call) => call.args.join(' '));
  const builds = calls.filter((call) => call.tool === 'docker' && call.args[0] === 'build').map((call) => call.args[call.args.indexOf('-t') + 1]);
  const version: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  // npm run images built every image with the manifests' tag (twice in the README), and one by hand.
  for (const image of ['event-bus', 'posts', 'comments', 'moderation', 'query', 'client']) expect(builds).toContain(`blog/${image}:${version}`);
  expect(builds).toContain('blog/posts:1.0.1');
  expect(kubectl).toEqual(
    expect.arrayContaining([
      'apply -f infra/k8s',
      'set image deployment/posts-depl posts=blog/posts:1.0.1',
      'rollout restart deployment/posts-depl',
      'label namespace blog pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest',
      'apply -n blog -f infra/k8s',
      'apply -k infra/scale',
    ]),
  );
});

it('when a command names something the manifests lack, then the fake kubectl fails as a cluster would', async () => {
  const env = { ...process.env, PATH: `${FAKES}:${process.env.PATH}` };
  await expect(run('kubectl', ['set', 'image', 'deployment/posts-depl', 'post=blog/posts:1.0.1'], { env })).rejects.toThrow(/unable to find container named "post"/);
  await expect(run('kubectl', ['rollout', 'restart', 'deployment/post-depl'], { env })).rejects.toThrow(/not found/);
  await expect(run('kubectl', ['port-forward', 'service/client-srv', '3000:3001'], { env })).rejects.toThrow(/does not have a service port 3001/);
  await expect(run('kubectl', ['label', 'namespace', 'blog', 'pod-security.kubernetes.io/enforce=strict'], { env })).rejects.toThrow(/invalid Pod Security level/);
});
