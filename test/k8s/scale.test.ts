import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { NATS_CLUSTER_SYNC } from '@blog/contracts';
import { NATS_GATEWAY_USER, NATS_SERVICE_USERS, natsAuthorizationConfig, passwordVariableOf } from '@blog/service-kit';
import { configSchema as busConfig } from '../../event-bus/src/config';
import { configSchema as postsConfig } from '../../posts/src/config';
import { configSchema as commentsConfig } from '../../comments/src/config';
import { configSchema as moderationConfig } from '../../moderation/src/config';
import { configSchema as queryConfig } from '../../query/src/config';
import { configSchema as clientConfig } from '../../client/src/config';
import { BUS_CALLERS, credentialRefOf, findWiringProblems } from '../support/k8sWiring';
import {
  K8S_DIR,
  ROOT,
  SCALE_DIR,
  classify,
  envOf,
  loadKustomized,
  loadManifests,
  renderKustomization,
  resolvedEnvOf,
  secretValue,
  type ManifestDocument,
  type Manifests,
} from '../support/manifests';
import { PolicyEvaluator, STRANGERS, allowedFlows, appPods, findNetworkPolicyProblems, serviceBackend, sourcesOf, type Endpoint } from '../support/networkPolicies';
import { GATEWAY_NATS_CREDENTIAL, NATS_SERVERS, STREAM_REPLICAS, WRITE_NATS_USERS, allowedDisruptions, expectedNatsConfig, findScaleProblems, natsConfigFiles, natsPasswordRefOf } from '../support/scaleWiring';
import { makeTempDir, removeTempDirs } from '../support/tempDirs';

const scale = loadKustomized();
const base = loadManifests();
const VALIDATOR = path.join(ROOT, 'scripts/k8s/validate-manifests.mjs');

const find = (m: Manifests, name: string) => {
  const workload = m.workloads.find((w) => w.name === name);
  if (!workload) throw new Error(`no workload ${name} in the overlay`);
  return workload;
};
const named = (documents: ManifestDocument[], name: string) => documents.find((d) => d.metadata.name === name)!;
const env = (m: Manifests, workload: string, name: string) => find(m, workload).container.env!.find((e) => e.name === name)!;
const args = (m: Manifests) => find(m, 'nats').container.args!;
const natsConfigMap = (m: Manifests) => m.configMaps.find((c) => c.metadata.name.startsWith('nats-config-'))!;
/** Changes one line of the nats.conf the servers read. */
const editNatsConf = (m: Manifests, from: string | RegExp, to: string) => (natsConfigMap(m).data!['nats.conf'] = natsConfigMap(m).data!['nats.conf']!.replace(from, to));
/** Takes one variable out of a workload's env, and answers it. */
const takeOut = (m: Manifests, workload: string, name: string) => {
  const variables = find(m, workload).container.env!;
  return variables.splice(variables.indexOf(env(m, workload, name)), 1)[0]!;
};

/** The rendered overlay with one thing broken, as `change` says. */
function broken(change: (m: Manifests) => void): Manifests {
  const copy = classify(structuredClone(scale.documents));
  change(copy);
  return copy;
}

function validate(...argv: string[]) {
  const result = spawnSync(process.execPath, [VALIDATOR, ...argv], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A copy of infra/k8s and infra/scale in a temporary folder, with one overlay file changed; answers the copy's overlay folder. */
function overlayCopy(file: string, change: (text: string) => string): string {
  const root = makeTempDir('overlay-');
  for (const dir of [K8S_DIR, SCALE_DIR]) fs.cpSync(dir, path.join(root, 'infra', path.basename(dir)), { recursive: true });
  const target = path.join(root, 'infra/scale', file);
  const before = fs.readFileSync(target, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`the change to ${file} changed nothing`);
  fs.writeFileSync(target, after);
  return path.join(root, 'infra/scale');
}

describe('the overlay, as kubectl kustomize renders it', () => {
  it('when rendered, then it has the base with NATS, the bus as a Deployment and a disruption budget for every workload', () => {
    expect(scale.documents.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(
      [
        ...base.documents.map((d) => `${d.kind}/${d.metadata.name}`).filter((id) => id !== 'StatefulSet/event-bus'),
        'Deployment/event-bus',
        'Secret/event-bus-nats-credential',
        `ConfigMap/${natsConfigMap(scale).metadata.name}`,
        'StatefulSet/nats',
        'Service/nats',
        'Service/nats-headless',
        'NetworkPolicy/nats-ingress',
        ...['client', 'comments', 'event-bus', 'moderation', 'nats', 'posts', 'query'].map((name) => `PodDisruptionBudget/${name}`),
      ].sort(),
    );
  });

  it('when the base Kustomization is read, then it lists every manifest file of infra/k8s, so none is left out of the overlay', () => {
    const kustomization = parse(fs.readFileSync(path.join(K8S_DIR, 'Kustomization'), 'utf8')) as { resources: string[] };
    const files = fs.readdirSync(K8S_DIR).filter((name) => /\.ya?ml$/.test(name)).sort();
    expect([...kustomization.resources].sort()).toEqual(files);
  });

  it('when kubectl is not on PATH, then loading the overlay fails and says what is missing', () => {
    const withoutKubectl = { ...process.env, PATH: makeTempDir('no-kubectl-') };
    expect(() => renderKustomization(SCALE_DIR, withoutKubectl)).toThrow(/kubectl is not on PATH: the tests of infra\/scale render it with `kubectl kustomize`; install kubectl/);
  });

  it('when an overlay cannot be built, then loading it fails with kustomize\'s reason', () => {
    const dir = overlayCopy('kustomization.yaml', (text) => text.replace('  - nats.yaml\n', '  - natz.yaml\n'));
    expect(() => renderKustomization(dir)).toThrow(/kubectl kustomize .*failed: .*natz\.yaml/s);
  });
});

describe('the overlay against the Kubernetes API schemas', () => {
  it('when validated with --kustomize, then every rendered document passes, the budgets included', () => {
    const { status, output } = validate('--kustomize', 'infra/scale');
    expect(output).not.toMatch(/FAIL/);
    expect(status).toBe(0);
    expect(output.match(/^ok {3}kustomize infra\/scale #\d+ /gm)?.length).toBe(scale.documents.length);
    expect(output).toMatch(/^ok {3}kustomize infra\/scale #\d+ PodDisruptionBudget\/nats$/m);
  });

  it('when the validator is run with no arguments, then it renders infra/scale as well as reading the folders', () => {
    const output = execFileSync(process.execPath, [VALIDATOR], { cwd: ROOT, encoding: 'utf8' });
    expect(output).toMatch(/^ok {3}kustomize infra\/scale #\d+ StatefulSet\/nats$/m);
    expect(output).toMatch(/^ok {3}infra\/k8s\/posts\.yaml #1 Deployment\/posts-depl$/m);
  });

  it.each([
    ['a patch that gives replicas as a string', 'replicas.yaml', (t: string) => t.replace('replicas: 2', 'replicas: "two"'), /FAIL kustomize .*#\d+ Deployment\/posts-depl: .*replicas must be integer/],
    ['a misspelled field in a new Deployment', 'event-bus.yaml', (t: string) => t.replace('imagePullPolicy:', 'imagePullPolicyy:'), /Deployment\/event-bus: .*imagePullPolicyy: unknown field/],
    ['a budget with both minAvailable and maxUnavailable', 'nats.yaml', (t: string) => t.replace('  maxUnavailable: 1\n', '  maxUnavailable: 1\n  minAvailable: 2\n'), /PodDisruptionBudget\/nats: \.spec: minAvailable and maxUnavailable cannot both be set/],
    ['a budget with a malformed percentage', 'disruption-budgets.yaml', (t: string) => t.replace('minAvailable: 1', 'minAvailable: "one%"'), /PodDisruptionBudget\/posts: \.spec\.minAvailable: "one%" is neither a count nor a percentage/],
    ['a budget whose selector has an invalid label value', 'disruption-budgets.yaml', (t: string) => t.replace('      app: posts\n', '      app: "posts depl"\n'), /PodDisruptionBudget\/posts: \.spec\.selector\.matchLabels\.app: "posts depl" is not a valid label value/],
  ])('when the overlay has %s, then validating its output fails and names it', (_name, file, change, message) => {
    const dir = overlayCopy(file, change);
    const { status, output } = validate('--kustomize', dir);
    expect(status).toBe(1);
    expect(output).toMatch(message);
  });

  it('when kubectl is missing or --kustomize has no folder, then the validator stops with a clear error', () => {
    const noKubectl = spawnSync(process.execPath, [VALIDATOR, '--kustomize', 'infra/scale'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: makeTempDir('no-kubectl-') } });
    expect(noKubectl.status).toBe(2);
    expect(noKubectl.stderr).toMatch(/kubectl is not on PATH: it is needed to render infra\/scale/);
    const noFolder = validate('--kustomize');
    expect(noFolder.status).toBe(2);
    expect(noFolder.output).toMatch(/--kustomize needs a folder/);
  });
});

describe('wiring of the overlay', () => {
  it('when rendered, then no Service, port, URL, probe, security setting or image is wired wrong, NATS included', () => {
    expect(findWiringProblems(scale)).toEqual([]);
  });

  it('when rendered, then every service is replicated with a budget and a spread, and NATS is a StatefulSet of three that agrees with its Services', () => {
    expect(findScaleProblems(scale)).toEqual([]);
  });

  it('runs every Deployment at two replicas and NATS at three, each with a budget', () => {
    const deployments = scale.workloads.filter((w) => w.kind === 'Deployment');
    expect(deployments.map((w) => w.name).sort()).toEqual(['client-depl', 'comments-depl', 'event-bus', 'moderation-depl', 'posts-depl', 'query-depl']);
    for (const workload of deployments) expect([workload.name, workload.document.spec.replicas]).toEqual([workload.name, 2]);
    expect(find(scale, 'nats').document.spec).toMatchObject({ replicas: NATS_SERVERS, serviceName: 'nats-headless', podManagementPolicy: 'Parallel' });
    expect(allowedDisruptions(named(scale.disruptionBudgets, 'nats'), NATS_SERVERS)).toBe(1);
    expect(allowedDisruptions(named(scale.disruptionBudgets, 'posts'), 2)).toBe(1);
  });

  it('points every NATS_URL at nats:4222 with three stream replicas, and gives the client neither', () => {
    for (const name of ['posts-depl', 'comments-depl', 'moderation-depl', 'query-depl', 'event-bus']) {
      expect([name, envOf(find(scale, name).container).NATS_URL, envOf(find(scale, name).container).NATS_REPLICAS]).toEqual([name, 'nats://nats:4222', String(STREAM_REPLICAS)]);
    }
    expect(envOf(find(scale, 'client-depl').container)).not.toHaveProperty('NATS_URL');
  });

  it('keeps the rest of each service\'s env as the base has it (its bus credential, the bus URL, the port)', () => {
    for (const name of ['posts-depl', 'comments-depl', 'moderation-depl', 'query-depl', 'client-depl']) {
      const { NATS_URL: _url, NATS_REPLICAS: _replicas, NATS_USER: _user, NATS_PASSWORD: _password, ...rest } = envOf(find(scale, name).container);
      expect([name, rest]).toEqual([name, envOf(find(base, name).container)]);
      expect([name, find(scale, name).container.env!.find((e) => e.name === 'BUS_TOKEN')]).toEqual([name, find(base, name).container.env!.find((e) => e.name === 'BUS_TOKEN')]);
    }
  });

  it('runs the bus as a gateway: no log, no subscribers, no volume claim, the same Service', () => {
    const bus = find(scale, 'event-bus');
    expect(bus.kind).toBe('Deployment');
    expect(Object.keys(envOf(bus.container))).toEqual(expect.not.arrayContaining(['DATA_DIR', 'SUBSCRIBERS']));
    expect(bus.document.spec.volumeClaimTemplates).toBeUndefined();
    expect(scale.services.find((s) => s.metadata.name === 'event-bus-srv')!.spec!.selector).toEqual({ app: 'event-bus' });
  });

  it('gives NATS the probes that fit it: a start that waits for the cluster, then only "JetStream is on"', () => {
    const nats = find(scale, 'nats').container;
    expect(nats.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'monitor' });
    expect(nats.readinessProbe!.httpGet).toEqual({ path: '/healthz?js-enabled-only=true', port: 'monitor' });
    expect(nats.livenessProbe!.httpGet).toEqual({ path: '/healthz?js-enabled-only=true', port: 'monitor' });
    expect(args(scale)).toEqual(['--config', '/etc/nats-config/nats.conf']);
    expect(find(scale, 'nats').document.spec.volumeClaimTemplates).toEqual([
      expect.objectContaining({ metadata: { name: 'data' }, spec: expect.objectContaining({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }) }),
    ]);
  });

  it.each([
    ['a service back at one replica', (m: Manifests) => (find(m, 'posts-depl').document.spec.replicas = 1), /posts-depl: 1 replica\(s\), fewer than 2/],
    ['a service without its budget', (m: Manifests) => m.disruptionBudgets.splice(m.disruptionBudgets.indexOf(named(m.disruptionBudgets, 'query')), 1), /query-depl: 0 PodDisruptionBudgets select its pods \(none\)/],
    ['a budget that never lets a pod go', (m: Manifests) => (named(m.disruptionBudgets, 'comments').spec.minAvailable = 2), /comments-depl: its budget comments lets no pod be evicted/],
    ['a NATS budget that would break quorum', (m: Manifests) => (named(m.disruptionBudgets, 'nats').spec.maxUnavailable = 2), /nats: its budget nats lets 2 of 3 pods go, leaving fewer than 2/],
    ['a budget that selects nothing', (m: Manifests) => (named(m.disruptionBudgets, 'client').spec.selector.matchLabels.app = 'clinet'), /PodDisruptionBudget client: selects no workload's pods/],
    ['a spread that would leave pods pending on one node', (m: Manifests) => (find(m, 'moderation-depl').template.spec!.topologySpreadConstraints![0]!.whenUnsatisfiable = 'DoNotSchedule'), /moderation-depl: spread is DoNotSchedule, not ScheduleAnyway/],
    ['a spread over another service\'s pods', (m: Manifests) => (find(m, 'client-depl').template.spec!.topologySpreadConstraints![0]!.labelSelector = { matchLabels: { app: 'posts' } }), /client-depl: its spread's labelSelector does not select its own pods[\s\S]*also counts the pods of posts-depl/],
    ['NATS without a spread', (m: Manifests) => delete find(m, 'nats').template.spec!.topologySpreadConstraints, /nats: no topologySpreadConstraint over kubernetes.io\/hostname/],
    ['five NATS servers but routes to three', (m: Manifests) => (find(m, 'nats').document.spec.replicas = 5), /nats: 5 replicas, not 3[\s\S]*nats.conf differs from what its ports, store volume and pods say[\s\S]*nats-4.nats-headless:6222/],
    ['NATS started one pod at a time', (m: Manifests) => delete find(m, 'nats').document.spec.podManagementPolicy, /podManagementPolicy is OrderedReady, not Parallel/],
    ['a serviceName that is no Service', (m: Manifests) => (find(m, 'nats').document.spec.serviceName = 'nats-hl'), /nats: serviceName nats-hl is not a Service/],
    ['a headless Service that hides pods until they are ready', (m: Manifests) => delete m.services.find((s) => s.metadata.name === 'nats-headless')!.spec!.publishNotReadyAddresses, /nats-headless: publishNotReadyAddresses is not true/],
    ['the store outside the volume claim', (m: Manifests) => editNatsConf(m, 'store_dir: "/data"', 'store_dir: "/var/lib/nats"'), /nats: nats.conf differs from what its ports, store volume and pods say[\s\S]*store_dir: "\/data"/],
    ['a store on no claim at all', (m: Manifests) => (find(m, 'nats').container.volumeMounts!.find((v) => v.name === 'data')!.name = 'scratch'), /nats: no PersistentVolumeClaim of the volumeClaimTemplates is mounted for the store/],
    ['a route port that is not the cluster port', (m: Manifests) => editNatsConf(m, /6222"/g, '6223"'), /nats: nats.conf differs[\s\S]*routes: \["nats:\/\/nats-0.nats-headless:6222"/],
    ['one fixed server name for every pod', (m: Manifests) => editNatsConf(m, 'server_name: $POD_NAME', 'server_name: "nats"'), /nats: nats.conf differs[\s\S]*server_name: \$POD_NAME/],
    ['a server name not filled from the pod', (m: Manifests) => (env(m, 'nats', 'POD_NAME').valueFrom!.fieldRef!.fieldPath = 'spec.nodeName'), /nats: POD_NAME, the server name in nats.conf, must be the pod's name, from the downward API/],
    ['a client port that is not the container port', (m: Manifests) => editNatsConf(m, '0.0.0.0:4222', '0.0.0.0:4223'), /nats: nats.conf differs[\s\S]*listen: "0.0.0.0:4222"/],
    ['another sync setting than the one chosen', (m: Manifests) => editNatsConf(m, /\n  # nats-server's default.*/, '\n  sync_interval: "10s"'), /nats: nats.conf differs[\s\S]*nats-server's default: files synced every two minutes/],
    ['a NATS_URL on the headless Service', (m: Manifests) => (env(m, 'query-depl', 'NATS_URL').value = 'nats://nats-headless:4222'), /query-depl: NATS_URL names nats-headless, not the Service nats/],
    ['a NATS_URL on the route port', (m: Manifests) => (env(m, 'comments-depl', 'NATS_URL').value = 'nats://nats:6222'), /comments-depl: NATS_URL uses port 6222, which does not lead to the NATS client port/],
    ['a service left on the embedded engine', (m: Manifests) => {
      const variables = find(m, 'moderation-depl').container.env!;
      variables.splice(variables.indexOf(env(m, 'moderation-depl', 'NATS_URL')), 1);
    }, /moderation-depl: no NATS_URL, so it runs the embedded engine/],
    ['one stream replica asked for', (m: Manifests) => (env(m, 'posts-depl', 'NATS_REPLICAS').value = '1'), /posts-depl: NATS_REPLICAS is 1, not 3/],
    ['the client given NATS_URL', (m: Manifests) => find(m, 'client-depl').container.env!.push({ name: 'NATS_URL', value: 'nats://nats:4222' }), /client-depl: never talks to NATS/],
    ['the gateway given a log folder', (m: Manifests) => find(m, 'event-bus').container.env!.push({ name: 'DATA_DIR', value: '/data' }), /event-bus: DATA_DIR is set, but the gateway neither keeps a log nor delivers/],
    ['the bus back as a StatefulSet', (m: Manifests) => {
      const bus = find(m, 'event-bus');
      bus.kind = 'StatefulSet';
      bus.document.kind = 'StatefulSet';
    }, /event-bus: a StatefulSet, not a Deployment[\s\S]*event-bus: a StatefulSet beside NATS/],
  ])('when the overlay has %s, then the scale check reports it', (_name, change, message) => {
    expect(findScaleProblems(broken(change)).join('\n')).toMatch(message);
  });

  it.each([
    ['NATS ready on plain /healthz', (m: Manifests) => (find(m, 'nats').container.readinessProbe!.httpGet!.path = '/healthz'), /nats: readinessProbe path is \/healthz, expected \/healthz\?js-enabled-only=true/],
    ['NATS without a startup probe', (m: Manifests) => delete find(m, 'nats').container.startupProbe, /nats: no startupProbe with httpGet/],
    ['a NATS probe on a port it lacks', (m: Manifests) => (find(m, 'nats').container.livenessProbe!.httpGet!.port = 'metrics'), /nats: livenessProbe port metrics is not a container port/],
    ['a writable root filesystem for NATS', (m: Manifests) => (find(m, 'nats').container.securityContext!.readOnlyRootFilesystem = false), /nats: readOnlyRootFilesystem must be true/],
    ['NATS as root', (m: Manifests) => (find(m, 'nats').template.spec!.securityContext!.runAsUser = 0), /nats: pod must run as uid and gid above 10000/],
    ['NATS with the service account token', (m: Manifests) => delete find(m, 'nats').template.spec!.automountServiceAccountToken, /nats: automountServiceAccountToken must be false/],
    ['NATS without a memory limit', (m: Manifests) => delete find(m, 'nats').container.resources!.limits!.memory, /nats: resources.limits must set cpu and memory/],
    ['NATS given a bus token', (m: Manifests) => find(m, 'nats').container.env!.push({ name: 'BUS_TOKEN', valueFrom: { secretKeyRef: credentialRefOf('posts') } }), /nats: never talks to the bus, so it must not be given BUS_TOKEN/],
    ['a NATS image that is pulled every time', (m: Manifests) => (find(m, 'nats').container.imagePullPolicy = 'Always'), /nats: imagePullPolicy must be IfNotPresent/],
    ['a NATS_URL naming no Service', (m: Manifests) => (env(m, 'event-bus', 'NATS_URL').value = 'nats://natz:4222'), /event-bus: NATS_URL points at natz, which is not a Service/],
    ['a gateway still on the StatefulSet\'s volume', (m: Manifests) => find(m, 'event-bus').container.volumeMounts!.push({ name: 'data', mountPath: '/data' }), /event-bus: volumeMount data has no volume/],
  ])('when the overlay has %s, then the wiring check reports it', (_name, change, message) => {
    expect(findWiringProblems(broken(change)).join('\n')).toMatch(message);
  });
});

describe('NATS users and the credentials in the overlay', () => {
  const services = ['posts-depl', 'comments-depl', 'moderation-depl', 'query-depl'];
  const tokenOf = (caller: string) => secretValue(scale, credentialRefOf(caller).name, 'token')!;

  it('when the users file is read from the ConfigMap the NATS servers mount, then it is exactly natsAuthorizationConfig() (the event owners map)', () => {
    const { users, problems } = natsConfigFiles(scale);
    expect(problems).toEqual([]);
    // If this fails, the owners map has changed: write the file again with the command in the message.
    expect([users === natsAuthorizationConfig() ? 'the same' : `differs; run: ${WRITE_NATS_USERS}`]).toEqual(['the same']);
    expect(fs.readFileSync(path.join(SCALE_DIR, 'nats-users.conf'), 'utf8')).toBe(natsAuthorizationConfig());
    expect(natsConfigMap(scale).metadata.name).toMatch(/^nats-config-[a-z0-9]{10}$/);
  });

  it('when the configuration is read from the same ConfigMap, then it is what natsServerConfig() makes of the StatefulSet: the cluster\'s sync setting, three routes, the store on the claim, the users file included', () => {
    const { config } = natsConfigFiles(scale);
    expect(config).toBe(expectedNatsConfig(find(scale, 'nats')));
    expect(fs.readFileSync(path.join(SCALE_DIR, 'nats.conf'), 'utf8')).toBe(config);
    expect(config).toContain(NATS_CLUSTER_SYNC === 'always' ? 'sync_interval: always' : "nats-server's default: files synced every two minutes");
    expect(config).toContain('include "users.conf"');
  });

  it('starts nats-server with its configuration file and nothing else, on a read-only ConfigMap volume, from the official image pinned by tag', () => {
    const nats = find(scale, 'nats');
    expect(args(scale)).toEqual(['--config', '/etc/nats-config/nats.conf']);
    expect(nats.container.command).toBeUndefined();
    expect(nats.container.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/nats-config', readOnly: true });
    expect(nats.template.spec!.volumes).toContainEqual({ name: 'config', configMap: { name: natsConfigMap(scale).metadata.name } });
    // A release, not a moving tag: the same server on every node and after every reschedule.
    expect(nats.container.image).toMatch(/^docker\.io\/library\/nats:2\.\d+\.\d+-alpine$/);
  });

  it('gives the NATS servers every user\'s password from the Secret that user logs in with, and each workload its own user', () => {
    const natsEnv = resolvedEnvOf({ ...find(scale, 'nats').container, env: find(scale, 'nats').container.env!.filter((v) => !v.valueFrom?.fieldRef && !v.valueFrom?.resourceFieldRef) }, scale);
    for (const user of NATS_SERVICE_USERS) expect([user, natsEnv[passwordVariableOf(user)]]).toEqual([user, tokenOf(user)]);
    const gatewayPassword = secretValue(scale, GATEWAY_NATS_CREDENTIAL.name, GATEWAY_NATS_CREDENTIAL.key)!;
    expect(natsEnv[passwordVariableOf(NATS_GATEWAY_USER)]).toBe(gatewayPassword);
    expect(BUS_CALLERS.map(tokenOf)).not.toContain(gatewayPassword);
    for (const name of services) {
      const variables = resolvedEnvOf(find(scale, name).container, scale);
      const user = name.replace(/-depl$/, '');
      expect([name, variables.NATS_USER, variables.NATS_PASSWORD, variables.BUS_TOKEN]).toEqual([name, user, tokenOf(user), tokenOf(user)]);
    }
    const gateway = resolvedEnvOf(find(scale, 'event-bus').container, scale);
    expect([gateway.NATS_USER, gateway.NATS_PASSWORD]).toEqual([NATS_GATEWAY_USER, gatewayPassword]);
    expect(resolvedEnvOf(find(scale, 'client-depl').container, scale)).not.toHaveProperty('NATS_PASSWORD');
  });

  it('gives the gateway BUS_CREDENTIALS as the embedded bus has them, and no token of its own', () => {
    const gateway = resolvedEnvOf(find(scale, 'event-bus').container, scale);
    expect(gateway.BUS_CREDENTIALS).toBe(resolvedEnvOf(find(base, 'event-bus').container, base).BUS_CREDENTIALS);
    expect(gateway.BUS_TOKEN).toBeUndefined();
  });

  it("when each workload's env is given to its configuration, then each accepts it", () => {
    const configs = { 'event-bus': busConfig, 'posts-depl': postsConfig, 'comments-depl': commentsConfig, 'moderation-depl': moderationConfig, 'query-depl': queryConfig, 'client-depl': clientConfig };
    for (const [name, schema] of Object.entries(configs)) {
      const parsed = schema.safeParse(resolvedEnvOf(find(scale, name).container, scale));
      expect([name, parsed.success ? 'accepted' : parsed.error.message]).toEqual([name, 'accepted']);
    }
    // The client reads the bus through the gateway, with its own read-only credential, and never NATS.
    const client = clientConfig.parse(resolvedEnvOf(find(scale, 'client-depl').container, scale)) as Record<string, unknown>;
    expect([client.BUS_TOKEN, client.EVENT_BUS_URL, client.NATS_URL]).toEqual([tokenOf('client'), 'http://event-bus-srv:4005', undefined]);
    const gateway = busConfig.parse(resolvedEnvOf(find(scale, 'event-bus').container, scale));
    expect([...gateway.BUS_CREDENTIALS.keys()]).toEqual([...BUS_CALLERS]);
  });

  it.each([
    ['a users file that has drifted from the owners map', (m: Manifests) => (natsConfigMap(m).data!['users.conf'] = natsConfigMap(m).data!['users.conf']!.replace('"blog.events.PostCreated", ', '"blog.events.PostCreated", "blog.events.CommentCreated", ')), /nats: its users file differs from natsAuthorizationConfig\(\) .*write infra\/scale\/nats-users.conf again: npx tsc -b && node -e/],
    ['nats-server started without its configuration', (m: Manifests) => args(m).splice(0, 2), /nats: its args must be --config <file> and nothing else/],
    ['a flag beside the configuration', (m: Manifests) => args(m).push('-js'), /nats: its args must be --config <file> and nothing else/],
    ['a configuration on no mounted volume', (m: Manifests) => (args(m)[1] = '/etc/nats/nats.conf'), /nats: the configuration \/etc\/nats\/nats.conf is not on a mounted volume[\s\S]*the users file \/etc\/nats\/users.conf is not on a mounted volume/],
    ['the configuration\'s volume writable', (m: Manifests) => delete find(m, 'nats').container.volumeMounts!.find((v) => v.name === 'config')!.readOnly, /nats: the volume config with the configuration must be mounted readOnly/],
    ['a configuration under another name than the key', (m: Manifests) => (args(m)[1] = '/etc/nats-config/server.conf'), /ConfigMap nats-config-[a-z0-9]+: has no key server.conf, the configuration \/etc\/nats-config\/server.conf/],
    ['a ConfigMap that is not in the overlay', (m: Manifests) => m.configMaps.splice(0), /nats: the ConfigMap nats-config-[a-z0-9]+ of the configuration is not in the manifests/],
    ['a user\'s password missing from NATS', (m: Manifests) => takeOut(m, 'nats', 'MODERATION_NATS_PASSWORD'), /nats: MODERATION_NATS_PASSWORD \(user moderation's password\) is set 0 times, not once/],
    ['a user\'s password from another user\'s Secret', (m: Manifests) => (env(m, 'nats', 'QUERY_NATS_PASSWORD').valueFrom!.secretKeyRef!.name = 'posts-bus-credential'), /nats: QUERY_NATS_PASSWORD \(user query's password\) comes from posts-bus-credential\/token, not the Secret query logs in with, query-bus-credential\/token/],
    ['the gateway\'s password written into the manifest', (m: Manifests) => {
      const password = env(m, 'nats', 'EVENT_BUS_NATS_PASSWORD');
      delete password.valueFrom;
      password.value = 'p'.repeat(32);
    }, /nats: EVENT_BUS_NATS_PASSWORD \(user event-bus's password\) must come from secretKeyRef event-bus-nats-credential\/token, not a literal value/],
    ['a service logging in as another user', (m: Manifests) => (env(m, 'comments-depl', 'NATS_USER').value = 'posts'), /comments-depl: logs in to NATS as posts, not as its own user comments/],
    ['a service with no NATS user', (m: Manifests) => takeOut(m, 'query-depl', 'NATS_USER'), /query-depl: logs in to NATS as nobody \(no NATS_USER\), not as its own user query/],
    ['a service logging in with another\'s password', (m: Manifests) => (env(m, 'moderation-depl', 'NATS_PASSWORD').valueFrom!.secretKeyRef!.name = 'comments-bus-credential'), /moderation-depl: NATS_PASSWORD comes from comments-bus-credential\/token, not the Secret the NATS servers read moderation's password from, moderation-bus-credential\/token/],
    ['an optional NATS password', (m: Manifests) => (env(m, 'posts-depl', 'NATS_PASSWORD').valueFrom!.secretKeyRef!.optional = true), /posts-depl: NATS_PASSWORD must not be optional/],
    ['the gateway logging in as a service', (m: Manifests) => (env(m, 'event-bus', 'NATS_USER').value = 'posts'), /event-bus: logs in to NATS as posts, not as its own user event-bus/],
    ['the gateway logging in with a service\'s credential', (m: Manifests) => (env(m, 'event-bus', 'NATS_PASSWORD').valueFrom!.secretKeyRef!.name = 'query-bus-credential'), /event-bus: NATS_PASSWORD comes from query-bus-credential\/token, not the Secret the NATS servers read event-bus's password from, event-bus-nats-credential\/token/],
    ['the client given a NATS login', (m: Manifests) => find(m, 'client-depl').container.env!.push({ name: 'NATS_USER', value: 'query' }), /client-depl: never talks to NATS, so it must not be given NATS_USER/],
    ['the client given its bus credential as a NATS password', (m: Manifests) => find(m, 'client-depl').container.env!.push({ name: 'NATS_PASSWORD', valueFrom: { secretKeyRef: credentialRefOf('client') } }), /client-depl: never talks to NATS, so it must not be given NATS_PASSWORD/],
    ['NATS reading the client\'s bus credential as a password', (m: Manifests) => find(m, 'nats').container.env!.push({ name: 'CLIENT_NATS_PASSWORD', valueFrom: { secretKeyRef: credentialRefOf('client') } }), /nats: env CLIENT_NATS_PASSWORD reads client-bus-credential, client's bus credential; client is no NATS user, so the servers must not hold it/],
  ])('when the overlay has %s, then the scale check reports it', (_name, change, message) => {
    expect(findScaleProblems(broken(change)).join('\n')).toMatch(message);
  });

  it.each([
    ['the gateway without BUS_CREDENTIALS', (m: Manifests) => takeOut(m, 'event-bus', 'BUS_CREDENTIALS'), /event-bus: BUS_CREDENTIALS is set 0 times, not once/],
    ['the gateway with a token variable from another caller\'s Secret', (m: Manifests) => (env(m, 'event-bus', 'POSTS_BUS_TOKEN').valueFrom!.secretKeyRef!.name = 'comments-bus-credential'), /event-bus: POSTS_BUS_TOKEN \(posts's token in BUS_CREDENTIALS\) comes from comments-bus-credential\/token/],
    ['a service\'s NATS password from another caller\'s credential', (m: Manifests) => (env(m, 'query-depl', 'NATS_PASSWORD').valueFrom!.secretKeyRef!.name = 'operator-bus-credential'), /query-depl: env NATS_PASSWORD reads operator-bus-credential, another caller's credential/],
    ['the gateway\'s NATS password the same as a service\'s token', (m: Manifests) => {
      m.secrets.find((s) => s.metadata.name === GATEWAY_NATS_CREDENTIAL.name)!.stringData!.token = secretValue(m, 'posts-bus-credential', 'token')!;
    }, /Secret (posts-bus-credential: token holds the same value as event-bus-nats-credential|event-bus-nats-credential: token holds the same value as posts-bus-credential)\/token; each credential needs its own/],
    ['the gateway\'s NATS Secret without its development label', (m: Manifests) => delete m.secrets.find((s) => s.metadata.name === GATEWAY_NATS_CREDENTIAL.name)!.metadata.labels!['app.kubernetes.io/component'], /Secret event-bus-nats-credential: its development value must carry the label/],
  ])('when the overlay has %s, then the wiring check reports it', (_name, change, message) => {
    expect(findWiringProblems(broken(change)).join('\n')).toMatch(message);
  });

  it('names, for each NATS user, the Secret the workloads log in with', () => {
    expect(Object.fromEntries([...NATS_SERVICE_USERS, NATS_GATEWAY_USER].map((user) => [user, natsPasswordRefOf(user).name]))).toEqual({
      posts: 'posts-bus-credential',
      comments: 'comments-bus-credential',
      moderation: 'moderation-bus-credential',
      query: 'query-bus-credential',
      'event-bus': 'event-bus-nats-credential',
    });
  });
});

describe('the NetworkPolicies of the overlay', () => {
  const pods = appPods(scale);
  const pod = (app: string) => pods.find((p) => p.labels.app === app)!;
  const evaluator = new PolicyEvaluator(scale.networkPolicies);
  // A second NATS pod: a pod's connections to itself are always allowed, so routes need another one.
  const natsPeer: Endpoint = { ...pod('nats'), name: 'nats (another pod)', ip: '10.244.0.77' };
  const PUBLISHERS = ['posts', 'comments', 'moderation', 'query', 'event-bus'];
  const EVERYONE = [...pods.map((p) => p.name), ...STRANGERS.map((s) => s.name)];
  const fromEveryone = (to: string, port: number) => EVERYONE.filter((s) => s !== to).map((s) => `${s} -> ${to}:${port}`);
  // The base's flows, unchanged (the bus no longer delivers to /events with NATS, and the rules for it stay
  // open: harmless, since each service's /events takes only its own credential), plus the publishers to
  // NATS's client port. The gateway takes the embedded bus's place on 4005, so the client's flow page reads
  // the log and the subscribers through it; the client never reaches NATS.
  const EXPECTED_FLOWS = [
    ...['posts', 'comments', 'moderation', 'query', 'client'].map((s) => `${s} -> event-bus:4005`),
    ...fromEveryone('posts', 4000),
    ...fromEveryone('client', 3000),
    'event-bus -> comments:4001',
    'client -> comments:4001',
    'event-bus -> query:4002',
    'client -> query:4002',
    'event-bus -> moderation:4003',
    'client -> moderation:4003',
    ...PUBLISHERS.map((s) => `${s} -> nats:4222`),
  ].sort();

  it('allows exactly the base\'s flows and the publishers to NATS, between every endpoint and every app port', () => {
    expect(allowedFlows(scale)).toEqual(EXPECTED_FLOWS);
  });

  it('agrees with the wiring: every URL in env (NATS_URL included) is reachable, every pod is isolated, every NodePort answers', () => {
    expect(findNetworkPolicyProblems(scale, EXPECTED_FLOWS)).toEqual([]);
  });

  it('lets the services and the gateway reach NATS through its Service, and nothing else, the client included', () => {
    expect(sourcesOf(scale, 'nats', 4222)).toEqual([...PUBLISHERS].sort());
    const backend = serviceBackend(scale, pods, 'nats', 4222)!;
    for (const app of PUBLISHERS) expect([app, evaluator.allows(pod(app), backend.pod, backend.containerPort)]).toEqual([app, true]);
    for (const port of [4222, 6222, 8222]) expect([port, evaluator.allows(pod('client'), pod('nats'), port)]).toEqual([port, false]);
  });

  it('lets the client read the gateway on 4005 and ask moderation, through their Services, and reach NATS on no port', () => {
    expect(sourcesOf(scale, 'event-bus', 4005)).toEqual(['client', 'comments', 'moderation', 'posts', 'query']);
    expect(sourcesOf(scale, 'moderation', 4003)).toEqual(['client', 'event-bus']);
    const gateway = serviceBackend(scale, pods, 'event-bus-srv', 4005)!;
    expect([gateway.pod.name, find(scale, 'event-bus').kind, evaluator.allows(pod('client'), gateway.pod, gateway.containerPort)]).toEqual(['event-bus', 'Deployment', true]);
    const moderation = serviceBackend(scale, pods, 'moderation-srv', 4003)!;
    expect(evaluator.allows(pod('client'), moderation.pod, moderation.containerPort)).toBe(true);
    expect(allowedFlows(scale).filter((f) => /^client -> (nats|event-bus|moderation):/.test(f))).toEqual(['client -> event-bus:4005', 'client -> moderation:4003']);
  });

  it('lets NATS pods route to each other on 6222, and no one else', () => {
    expect(evaluator.allows(natsPeer, pod('nats'), 6222)).toBe(true);
    expect(evaluator.allows(pod('nats'), natsPeer, 6222)).toBe(true);
    expect(sourcesOf(scale, 'nats', 6222)).toEqual([]);
    expect(evaluator.allows(natsPeer, pod('nats'), 4222)).toBe(false);
  });

  it('leaves the monitoring port to the kubelet alone: no pod or address reaches 8222', () => {
    expect(sourcesOf(scale, 'nats', 8222)).toEqual([]);
    expect(evaluator.allows(natsPeer, pod('nats'), 8222)).toBe(false);
  });

  it('isolates NATS with the default deny too', () => {
    const denyOnly = new PolicyEvaluator(scale.networkPolicies.filter((p) => p.metadata.name === 'default-deny-ingress'));
    for (const p of pods) expect([p.name, denyOnly.selecting(p, 'Ingress').length]).toEqual([p.name, 1]);
    expect(pods.map((p) => p.name).sort()).toEqual(['client', 'comments', 'event-bus', 'moderation', 'nats', 'posts', 'query']);
  });

  it.each([
    ['the gateway left out of the NATS rule', (m: Manifests) => named(m.networkPolicies, 'nats-ingress').spec.ingress[0].from.pop(), /expected, but denied: event-bus -> nats:4222[\s\S]*event-bus: NATS_URL reaches nats:4222, but the policies drop event-bus -> nats:4222/],
    ['the NATS rule open to every pod', (m: Manifests) => delete named(m.networkPolicies, 'nats-ingress').spec.ingress[0].from, /allowed, but not an expected flow: client -> nats:4222/],
    ['the client let into the NATS rule', (m: Manifests) => named(m.networkPolicies, 'nats-ingress').spec.ingress[0].from.push({ podSelector: { matchLabels: { app: 'client' } } }), /allowed, but not an expected flow: client -> nats:4222/],
    ['the client left out of the gateway\'s rule', (m: Manifests) => {
      const from = named(m.networkPolicies, 'event-bus-ingress').spec.ingress[0].from;
      from.splice(from.findIndex((peer: any) => peer.podSelector?.matchLabels?.app === 'client'), 1);
    }, /expected, but denied: client -> event-bus:4005[\s\S]*client-depl: EVENT_BUS_URL reaches event-bus-srv:4005, but the policies drop client -> event-bus:4005/],
    ['the client\'s peer in the gateway\'s rule opened to every namespace', (m: Manifests) => {
      const from = named(m.networkPolicies, 'event-bus-ingress').spec.ingress[0].from;
      from.find((peer: any) => peer.podSelector?.matchLabels?.app === 'client').namespaceSelector = {};
    }, /allowed, but not an expected flow: pod-labelled-client-in-other-namespace -> event-bus:4005/],
    ['the monitoring port opened', (m: Manifests) => named(m.networkPolicies, 'nats-ingress').spec.ingress.push({ ports: [{ protocol: 'TCP', port: 8222 }] }), /allowed, but not an expected flow: debug-pod-in-namespace -> nats:8222/],
    ['NATS in no policy at all', (m: Manifests) => {
      m.networkPolicies.splice(m.networkPolicies.indexOf(named(m.networkPolicies, 'nats-ingress')), 1);
      named(m.networkPolicies, 'default-deny-ingress').spec.podSelector.matchExpressions[0].values.pop();
    }, /nats: no NetworkPolicy isolates it/],
  ])('when the overlay has %s, then the policy check reports it', (_name, change, message) => {
    expect(findNetworkPolicyProblems(broken(change), EXPECTED_FLOWS).join('\n')).toMatch(message);
  });

  it('when the route rule is removed, then NATS pods no longer reach each other', () => {
    const copy = broken((m) => named(m.networkPolicies, 'nats-ingress').spec.ingress.splice(1, 1));
    expect(new PolicyEvaluator(copy.networkPolicies).allows(natsPeer, pod('nats'), 6222)).toBe(false);
  });
});

describe('the images', () => {
  it('when the build script runs, then it builds every service image the overlay runs, with its tag, and not the official NATS image', () => {
    const plan = execFileSync('bash', ['scripts/build-images.sh', '--dry-run'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CONTAINER_ENGINE: 'docker', KUBECONFIG: '/nonexistent' },
    });
    for (const workload of scale.workloads.filter((w) => w.name !== 'nats')) {
      const image = workload.container.image!;
      const folder = /^blog\/([a-z-]+):/.exec(image)![1]!;
      expect(plan).toContain(`docker build -f ${folder}/Dockerfile -t ${image} .`);
    }
    expect(plan).not.toMatch(/-t \S*nats/);
  });

  it.each([
    ['a NATS image on a moving tag', (m: Manifests) => (find(m, 'nats').container.image = 'docker.io/library/nats:latest'), /nats: image docker.io\/library\/nats:latest is not pinned to a release/],
    ['a NATS image of no known server', (m: Manifests) => (find(m, 'nats').container.image = 'docker.io/someone/nats:2.14.5'), /nats: image docker.io\/someone\/nats:2.14.5 is neither blog\/<service>:<tag> nor an official server's image/],
  ])('when the overlay has %s, then the wiring check reports it', (_name, change, message) => {
    expect(findWiringProblems(broken(change)).join('\n')).toMatch(message);
  });
});

afterAll(removeTempDirs);
