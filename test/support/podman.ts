import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Container } from 'kubernetes-types/core/v1';
import { ROOT, expandedEnvList, resolveTargetPort, secretData, selects, type Manifests, type Workload } from './manifests';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs podman with the runtime this machine needs (crun fails on its hybrid cgroups). */
export function podman(args: string[], { check = true, logFile }: { check?: boolean; logFile?: string } = {}): Run {
  const result = spawnSync('podman', ['--runtime', 'runc', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const run = { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  if (logFile) fs.writeFileSync(logFile, `$ podman ${args.join(' ')}\n${run.stdout}\n${run.stderr}`);
  if (check && run.status !== 0) {
    throw new Error(`podman ${args.join(' ')} failed (${run.status}):\n${run.stderr.slice(-2000)}`);
  }
  return run;
}

/**
 * Runs podman without blocking, so that several commands (the image builds) can run side by side. With
 * `logFile`, the output goes there as it comes, each line stamped with the seconds since the start (so a
 * build log shows how long every step took).
 */
export function podmanAsync(args: string[], { check = true, logFile }: { check?: boolean; logFile?: string } = {}): Promise<Run> {
  const started = Date.now();
  const log = logFile ? fs.createWriteStream(logFile) : undefined;
  log?.write(`$ podman ${args.join(' ')}\n`);
  const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] `;
  return new Promise((resolve, reject) => {
    const child = spawn('podman', ['--runtime', 'runc', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        output[stream] += chunk;
        if (!log) return;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) log.write(stamp() + line + '\n');
      });
      child[stream].on('end', () => {
        if (partial) log?.write(stamp() + partial + '\n');
      });
    }
    child.on('error', reject);
    child.on('close', (status) => {
      const done = () => {
        const run = { status, ...output };
        if (status === 0 || !check) resolve(run);
        else reject(new Error(`podman ${args.join(' ')} failed (${status})${logFile ? `, log in ${logFile}` : ''}:\n${(output.stdout + output.stderr).slice(-2000)}`));
      };
      if (log) log.end(`${stamp()}exit ${status}\n`, done);
      else done();
    });
  });
}

/**
 * The workload's manifest as `podman kube play` can run it here: the pod on the host's network with every
 * Service name resolving to 127.0.0.1 (Service ports equal their target ports in infra/k8s, so this is
 * what kube-proxy would do), a StatefulSet's volume claim template bound to a named podman volume (the
 * PersistentVolumeClaim), and the probes left to the test (podman would run them with curl, which the
 * slim images do not have), and env values that name other variables, `$(VAR)`, expanded here as the
 * kubelet would (withKubeletEnv). Everything else — image, env, user, read-only root, capabilities,
 * seccomp, emptyDir — is the manifest's own.
 */
export function kubePlayDocument(workload: Workload, manifests: Manifests, claimVolumes: Map<string, string>) {
  const template = structuredClone(workload.template);
  const spec = template.spec!;
  spec.hostNetwork = true;
  spec.hostAliases = [{ ip: '127.0.0.1', hostnames: manifests.services.map((s) => s.metadata.name) }];
  for (const container of spec.containers) {
    delete container.livenessProbe;
    delete container.readinessProbe;
    // Port mappings are for bridged pods; on the host network the container's own ports are used.
    delete container.ports;
    withKubeletEnv(container, manifests);
  }
  const claims = (workload.document.spec.volumeClaimTemplates ?? []) as { metadata: { name: string } }[];
  for (const claim of claims) {
    const volume = claimVolumes.get(claim.metadata.name);
    if (!volume) throw new Error(`${workload.name}: no podman volume for claim ${claim.metadata.name}`);
    spec.volumes = [...(spec.volumes ?? []), { name: claim.metadata.name, persistentVolumeClaim: { claimName: volume } }];
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: workload.name, labels: workload.document.metadata.labels },
    spec: { replicas: 1, selector: workload.document.spec.selector, template },
  };
}

export function writeKubePlayFile(dir: string, workload: Workload, manifests: Manifests, claimVolumes: Map<string, string>): string {
  const file = path.join(dir, `${workload.name}.yaml`);
  fs.writeFileSync(file, stringify(kubePlayDocument(workload, manifests, claimVolumes)));
  return file;
}

/** The name podman kube play gives a Deployment's (only) container. */
export const containerName = (workload: Workload) => `${workload.name}-pod-0-${workload.container.name}`;

/** The podman client's version as numbers, e.g. [4, 3, 1]. */
export function podmanVersion(): number[] {
  return podman(['version', '--format', '{{.Client.Version}}']).stdout.trim().split(/[.-]/).slice(0, 3).map(Number);
}

/**
 * Makes every Secret of the manifests a podman secret that `secretKeyRef` in a kube play file reads, and
 * answers their names. Each is played with `podman kube play` from its own manifest document (podman
 * supports kind Secret there). Podman before 4.4 stores that document as YAML while its secretKeyRef
 * reads a JSON map of base64 values, so env from it fails with "secret ... is not valid JSON" (podman
 * issue #16269, fixed in 4.4); on those versions the secret is then replaced by that JSON map of the
 * same keys and values. A podman secret of the same name that this run did not make is an error, not
 * something to overwrite.
 */
export function playSecrets(dir: string, manifests: Manifests): string[] {
  const [major = 0, minor = 0] = podmanVersion();
  const readsKubeSecrets = major > 4 || (major === 4 && minor >= 4);
  const made: string[] = [];
  for (const secret of manifests.secrets) {
    const { name } = secret.metadata;
    if (podman(['secret', 'inspect', name], { check: false }).status === 0) {
      throw new Error(`a podman secret named ${name} exists already (left by an interrupted run?): remove it with \`podman secret rm ${name}\` and run again`);
    }
    const { file: _file, ...document } = secret;
    const yamlFile = path.join(dir, `secret-${name}.yaml`);
    fs.writeFileSync(yamlFile, stringify(document));
    podman(['kube', 'play', yamlFile]);
    made.push(name);
    if (!readsKubeSecrets) {
      const values = Object.fromEntries(Object.entries(secretData(secret)).map(([key, value]) => [key, Buffer.from(value).toString('base64')]));
      const jsonFile = path.join(dir, `secret-${name}.json`);
      fs.writeFileSync(jsonFile, JSON.stringify(values), { mode: 0o600 });
      podman(['secret', 'rm', name]);
      podman(['secret', 'create', name, jsonFile]);
    }
  }
  return made;
}

/**
 * Env values with `$(VAR)` references (the bus's BUS_CREDENTIALS, built from the callers' Secrets) as the
 * kubelet expands them: podman 4.3's kube play passes them on literally (dependent environment variables
 * are an open feature request there, podman issue #24181), and the bus would take `$(POSTS_BUS_TOKEN)`
 * for a token. Only values that name another variable change; the variables they name still come from
 * podman secrets. The expanded value holds the Secrets' values, so the play file does too: these are
 * the repository's development values, in this run's temporary folder.
 */
function withKubeletEnv(container: Container, manifests: Manifests): void {
  const env = expandedEnvList(container, manifests);
  if (env) container.env = env;
}

/**
 * The ConfigMaps a pod's volumes name, each written into a file of its own for `podman kube play
 * --configmap <file>,...` (which reads one ConfigMap per file, and makes each a podman volume of the
 * ConfigMap's name holding a file per key); undefined when the pod mounts none.
 */
function configMapFiles(dir: string, name: string, pod: { volumes?: { configMap?: { name?: string } }[] }, manifests: Manifests): { files: string[]; names: string[] } | undefined {
  const names = [...new Set((pod.volumes ?? []).flatMap((volume) => (volume.configMap?.name ? [volume.configMap.name] : [])))];
  if (names.length === 0) return undefined;
  const files = names.map((configMap) => {
    const found = manifests.configMaps.find((c) => c.metadata.name === configMap);
    if (!found) throw new Error(`${name}: mounts ConfigMap ${configMap}, which is not in the manifests`);
    const { file: _file, ...document } = found;
    const file = path.join(dir, `configmap-${configMap}.yaml`);
    // lineWidth 0: each text as a literal block, line for line, rather than folded.
    fs.writeFileSync(file, stringify(document, { lineWidth: 0 }));
    return file;
  });
  return { files, names };
}

/** One `podman kube play` of a workload on a podman network: its file, its `--network` value, and the pods it makes. */
export interface NetworkPlay {
  workload: Workload;
  file: string;
  /** The ConfigMaps its pods mount, in files for `--configmap`, and their names (podman makes a volume of each). */
  configMaps?: { files: string[]; names: string[] };
  /** The names the pods answer to on the network (DNS aliases), as `--network <network>:alias=...` gives them. */
  aliases: string[];
  network: string;
  pods: { name: string; container: string }[];
}

/**
 * `$(VAR)` in a container's command or args, expanded as the kubelet expands it (podman 4.3 passes it on
 * literally, so NATS would be named "$(POD_NAME)" three times over): from the container's literal env
 * values and the pod's name where the env takes it from `fieldRef: metadata.name`. `$$` is a literal `$`,
 * and a reference to a variable the container does not define stays as it is, as in Kubernetes. A
 * variable it defines that cannot be resolved here is an error rather than a silently wrong argument.
 */
export function expandReferences(values: string[] | undefined, env: Container['env'], podName: string | undefined): string[] | undefined {
  if (!values) return values;
  const defined = new Map((env ?? []).map((variable) => [variable.name, variable]));
  return values.map((value) =>
    value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
      if (!name) return '$';
      const variable = defined.get(name);
      if (!variable) return match;
      if (variable.value !== undefined) return variable.value;
      if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name' && podName) return podName;
      throw new Error(`${match} in a container's args refers to ${name}, whose value this tier does not resolve${podName ? '' : ' in one file for every replica'}`);
    }),
  );
}

/**
 * The workload's manifest as `podman kube play` (4.3) can run it on a podman bridge network with DNS
 * (netavark and aardvark-dns): every pod at an address of its own, listening on the manifest's ports, so
 * that replicas and the three NATS servers can run side by side as they do on a cluster. What is not the
 * manifest's own:
 * - Services: each pod gets as network aliases the names of the Services that select it, and a
 *   StatefulSet's pod also `<pod>.<serviceName>`, its DNS name through the headless Service. A name held by
 *   several pods answers with all their addresses (DNS round robin where kube-proxy would balance a
 *   ClusterIP), ready or not (there is no endpoints controller). An alias cannot remap a port, so a
 *   Service whose port differs from its target port is refused (none in infra/k8s or infra/scale does);
 *   NodePorts are not opened: the test reaches the pods at their addresses on the network.
 * - a StatefulSet is played as its pods, `<name>-0` .. `<name>-<replicas - 1>`, each a Pod of the
 *   template with the hostname and subdomain the StatefulSet controller gives it, and each claim of its
 *   volumeClaimTemplates a named podman volume of that pod's own (the PersistentVolumeClaim `<claim>-<pod>`
 *   in Kubernetes). One file per pod, because each pod has a name of its own.
 * - `$(VAR)` in command and args is expanded here (expandReferences), as the kubelet would, and so is
 *   `$(VAR)` in env values (withKubeletEnv).
 * - a ConfigMap volume (NATS's users file) is given to kube play as `--configmap` (configMapFiles).
 * - container ports are dropped: podman 4.3 publishes a containerPort on the host's port of the same number
 *   even without hostPort, so a second pod with the port would not start. The pods listen on them anyway.
 * - the probes are left to the test, as in kubePlayDocument.
 * - an emptyDir (/tmp): podman 4.3 makes it a volume named after it, shared by the pods that have one of
 *   that name instead of one per pod (no service writes to its /tmp); kube down removes it.
 * Everything else — image, env, Secrets, user, read-only root, capabilities, seccomp, resources, replicas
 * (podman 4.3 plays each of a Deployment's, as pods `<name>-pod-<i>`) — is the manifest's own.
 */
export function networkPlays(
  dir: string,
  workload: Workload,
  manifests: Manifests,
  network: string,
  claimVolume: (claim: string, pod: string) => string,
): NetworkPlay[] {
  const services = manifests.services.filter((service) => selects(service, workload));
  for (const service of services) {
    for (const port of service.spec?.ports ?? []) {
      const target = resolveTargetPort(workload.container, port.targetPort ?? port.port);
      if (target !== port.port) {
        throw new Error(`Service ${service.metadata.name}: port ${port.port} leads to ${workload.name}'s port ${target}; a network alias cannot remap a port`);
      }
    }
  }
  const serviceNames = services.map((service) => service.metadata.name);
  const replicas: number = workload.document.spec.replicas ?? 1;
  const template = (podName: string | undefined) => {
    const copy = structuredClone(workload.template);
    for (const container of copy.spec!.containers) {
      delete container.livenessProbe;
      delete container.readinessProbe;
      delete container.startupProbe;
      delete container.ports;
      container.command = expandReferences(container.command, container.env, podName);
      container.args = expandReferences(container.args, container.env, podName);
      withKubeletEnv(container, manifests);
    }
    return copy;
  };
  const configMaps = configMapFiles(dir, workload.name, workload.template.spec ?? {}, manifests);
  const write = (name: string, document: object) => {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, stringify(document));
    return file;
  };
  const withAliases = (play: Omit<NetworkPlay, 'network'>): NetworkPlay => ({ ...play, network: `${network}:${play.aliases.map((alias) => `alias=${alias}`).join(',')}` });

  if (workload.kind === 'Deployment') {
    const pods = Array.from({ length: replicas }, (_, i) => ({ name: `${workload.name}-pod-${i}`, container: `${workload.name}-pod-${i}-${workload.container.name}` }));
    // One file plays every replica, so a pod's own name cannot go into its args.
    const document = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: workload.name, labels: workload.document.metadata.labels }, spec: { replicas, selector: workload.document.spec.selector, template: template(undefined) } };
    return [withAliases({ workload, file: write(workload.name, document), configMaps, aliases: serviceNames, pods })];
  }

  const serviceName: string | undefined = workload.document.spec.serviceName;
  const claims = (workload.document.spec.volumeClaimTemplates ?? []) as { metadata: { name: string } }[];
  return Array.from({ length: replicas }, (_, ordinal) => {
    const podName = `${workload.name}-${ordinal}`;
    const pod = template(podName);
    const spec = pod.spec!;
    spec.hostname = podName;
    if (serviceName) spec.subdomain = serviceName;
    for (const claim of claims) {
      spec.volumes = [...(spec.volumes ?? []), { name: claim.metadata.name, persistentVolumeClaim: { claimName: claimVolume(claim.metadata.name, podName) } }];
    }
    const document = { apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, labels: pod.metadata?.labels }, spec };
    const aliases = [...serviceNames, ...(serviceName ? [`${podName}.${serviceName}`] : [])];
    return withAliases({ workload, file: write(podName, document), configMaps, aliases, pods: [{ name: podName, container: `${podName}-${workload.container.name}` }] });
  });
}

/** A container's address on a podman network (a pod's containers share it). */
export function addressOn(network: string, container: string): string {
  const address = podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]).stdout.trim();
  if (!address) throw new Error(`${container} has no address on the network ${network}`);
  return address;
}
