import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readDockerfile } from './dockerfiles';
import { ROOT, SUBSCRIBER_NAME, resolveTargetPort, resolvedEnvOf, selects, serviceOfImage, type Manifests, type Workload } from './manifests';
import { waitFor } from './waitFor';

/**
 * Runs every workload as a local process the way its pod would run: the Dockerfile's CMD from its
 * WORKDIR (the repository root stands in for /app), the Dockerfile's ENV overlaid with the manifest's
 * env as the kubelet makes it (values from `secretKeyRef` read from the Secrets in the manifests, and
 * `$(NAME)` references expanded from the variables before them, as the bus's BUS_CREDENTIALS is built),
 * each volume mount backed by a temporary folder, and Service names resolved like kube-proxy would:
 * `http://<service>:<port>` becomes 127.0.0.1 and the container port the Service's targetPort names.
 */
export class ManifestRunner {
  private readonly children: ChildProcess[] = [];
  private readonly output = new Map<string, string[]>();
  private readonly tempDirs: string[] = [];

  constructor(private readonly manifests: Manifests) {}

  /** The local URL for a Service and one of its ports, as a pod in the cluster would reach it. */
  serviceUrl(name: string, port?: number): string {
    const service = this.manifests.services.find((s) => s.metadata.name === name);
    if (!service) throw new Error(`no Service ${name}`);
    const servicePort = (service.spec?.ports ?? []).find((p) => port === undefined || p.port === port);
    const workload = this.manifests.workloads.find((w) => selects(service, w));
    if (!servicePort || !workload) throw new Error(`Service ${name} has no port ${port} or no workload`);
    const containerPort = resolveTargetPort(workload.container, servicePort.targetPort ?? servicePort.port);
    if (containerPort === undefined) throw new Error(`Service ${name}: targetPort ${servicePort.targetPort} is not a container port`);
    return `http://127.0.0.1:${containerPort}`;
  }

  private resolveEnvValue(value: string, mounts: Map<string, string>): string {
    for (const [mountPath, local] of mounts) {
      if (value === mountPath || value.startsWith(`${mountPath}/`)) return local + value.slice(mountPath.length);
    }
    return value
      .split(',')
      .map((entry) => {
        // A subscriber's name before its URL (SUBSCRIBERS=posts=http://...) stays as it is.
        const name = SUBSCRIBER_NAME.exec(entry)?.[0] ?? '';
        const part = entry.slice(name.length);
        if (!/^https?:\/\//.test(part)) return entry;
        const url = new URL(part);
        const isService = this.manifests.services.some((s) => s.metadata.name === url.hostname);
        if (!isService) return entry;
        return `${name}${this.serviceUrl(url.hostname, Number(url.port || 80))}${url.pathname === '/' && !part.endsWith('/') ? '' : url.pathname}`;
      })
      .join(',');
  }

  private commandOf(workload: Workload) {
    const image = serviceOfImage(workload.container.image ?? '');
    if (!image) throw new Error(`${workload.name}: image ${workload.container.image} is not one of ours`);
    const { runtime } = readDockerfile(image.folder);
    if (!runtime.cmd || runtime.cmd[0] !== 'node') throw new Error(`${image.folder}/Dockerfile: CMD must be ["node", ...]`);
    const cwd = path.join(ROOT, path.posix.relative('/app', runtime.workdir));
    return { args: runtime.cmd.slice(1), cwd, imageEnv: runtime.env };
  }

  private async ensurePortFree(port: number, owner: string): Promise<void> {
    const inUse = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (inUse) throw new Error(`port ${port} (${owner}) is in use: stop whatever runs there (npm start?) and run the test again`);
  }

  async start(workload: Workload): Promise<void> {
    const { args, cwd, imageEnv } = this.commandOf(workload);
    const mounts = new Map<string, string>();
    for (const mount of workload.container.volumeMounts ?? []) {
      const local = fs.mkdtempSync(path.join(os.tmpdir(), `${workload.name}-${mount.name}-`));
      this.tempDirs.push(local);
      mounts.set(mount.mountPath, local);
    }
    const manifestEnv = Object.fromEntries(
      Object.entries(resolvedEnvOf(workload.container, this.manifests)).map(([name, value]) => [name, this.resolveEnvValue(value, mounts)]),
    );
    const env = { PATH: process.env.PATH, ...this.resolveAll(imageEnv, mounts), ...manifestEnv };
    for (const port of workload.container.ports ?? []) await this.ensurePortFree(port.containerPort, workload.name);
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    this.output.set(workload.name, lines);
    child.stdout?.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    this.children.push(child);
  }

  private resolveAll(env: Record<string, string>, mounts: Map<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, this.resolveEnvValue(value, mounts)]));
  }

  /** Waits until the workload's readiness probe, as the manifest defines it, answers 200. */
  async waitUntilReady(workload: Workload, timeoutMs = 20_000): Promise<void> {
    const probe = workload.container.readinessProbe?.httpGet;
    if (!probe) throw new Error(`${workload.name} has no readiness probe`);
    const port = resolveTargetPort(workload.container, probe.port);
    await waitFor(
      `${workload.name}'s readiness probe ${probe.path} on port ${port}`,
      async () => (await fetch(`http://127.0.0.1:${port}${probe.path}`)).status === 200,
      { timeoutMs, intervalMs: 100 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${workload.name} output ---\n${this.recentOutput(workload.name)}`);
    });
  }

  recentOutput(name: string): string {
    return (this.output.get(name) ?? []).slice(-20).join('');
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.splice(0).map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    for (const dir of this.tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }
}
