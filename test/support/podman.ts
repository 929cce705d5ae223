import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ROOT, secretData, type Manifests, type Workload } from './manifests';

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
 * slim images do not have). Everything else — image, env, user, read-only root, capabilities, seccomp,
 * emptyDir — is the manifest's own.
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
