import fs from 'node:fs';
import path from 'node:path';

import {
  ROOT,
  envOf,
  resolveTargetPort,
  secretData,
  selects,
  serviceOfImage,
  urlsIn,
  type ManifestDocument,
  type Manifests,
  type Workload,
} from './manifests';

/** Longest a service takes to shut down (service-kit/src/server.ts), plus a margin for the probe to see it. */
const SHUTDOWN_SECONDS = 10 + 2;
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

/**
 * Images of servers the project packages but did not write (nats/Dockerfile: Debian's nats-server): they
 * take their settings as arguments rather than env (no PORT), answer their own health endpoints, and never
 * talk to the bus.
 */
export const PACKAGED_SERVERS: readonly string[] = ['nats'];

const isPackagedServer = (workload: Workload) => PACKAGED_SERVERS.includes(serviceOfImage(workload.container.image ?? '')?.folder ?? '');

type ProbeName = 'startupProbe' | 'readinessProbe' | 'livenessProbe';

/**
 * The probe paths each image must have. Ours: /readyz (ready to serve) and /healthz (alive, never
 * depending on another service). NATS: after a start that waits for the cluster (plain /healthz), only
 * "JetStream is on": plain /healthz turns 503 whenever the node loses its meta leader (seen on nats-server
 * 2.9.10), and restarting it, or taking it out of the nats Service, would then only make an outage longer.
 */
export const PROBE_PATHS: Record<string, Partial<Record<ProbeName, string>>> = {
  default: { readinessProbe: '/readyz', livenessProbe: '/healthz' },
  nats: { startupProbe: '/healthz', readinessProbe: '/healthz?js-enabled-only=true', livenessProbe: '/healthz?js-enabled-only=true' },
};

function selectorProblems({ services, workloads }: Manifests): string[] {
  return services.flatMap((service) => {
    const matched = workloads.filter((workload) => selects(service, workload));
    return matched.length === 1
      ? []
      : [`Service ${service.metadata.name}: selector matches ${matched.length} workloads (${matched.map((w) => w.name).join(', ') || 'none'}), not exactly one`];
  });
}

function portProblems({ services, workloads }: Manifests): string[] {
  const problems: string[] = [];
  for (const service of services) {
    const workload = workloads.find((w) => selects(service, w));
    if (!workload) continue;
    for (const port of service.spec?.ports ?? []) {
      const containerPort = resolveTargetPort(workload.container, port.targetPort ?? port.port);
      if (containerPort === undefined) {
        problems.push(`Service ${service.metadata.name}: targetPort ${port.targetPort} is not a port of ${workload.name}`);
      }
    }
  }
  for (const workload of workloads.filter((w) => !isPackagedServer(w))) {
    const declared = (workload.container.ports ?? []).map((p) => p.containerPort);
    const listensOn = Number(envOf(workload.container).PORT);
    if (!declared.includes(listensOn)) {
      problems.push(`${workload.name}: PORT env (${envOf(workload.container).PORT}) is not a declared containerPort (${declared.join(', ')})`);
    }
  }
  return problems;
}

function servicePorts(manifests: Manifests, name: string): number[] | undefined {
  const service = manifests.services.find((s) => s.metadata.name === name);
  return service ? (service.spec?.ports ?? []).map((p) => p.port) : undefined;
}

function urlProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  for (const workload of manifests.workloads) {
    for (const [name, value] of Object.entries(envOf(workload.container))) {
      for (const { url, port } of urlsIn(value)) {
        const ports = servicePorts(manifests, url.hostname);
        if (!ports) problems.push(`${workload.name}: ${name} points at ${url.hostname}, which is not a Service`);
        else if (!ports.includes(port)) problems.push(`${workload.name}: ${name} uses port ${port}, not a port of Service ${url.hostname} (${ports.join(', ')})`);
      }
    }
  }
  return problems;
}

function nodePortProblems({ services }: Manifests): string[] {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const service of services.filter((s) => s.spec?.type === 'NodePort')) {
    for (const port of service.spec?.ports ?? []) {
      const nodePort = port.nodePort;
      if (nodePort === undefined || nodePort < 30000 || nodePort > 32767) {
        problems.push(`Service ${service.metadata.name}: nodePort ${nodePort} is not in 30000-32767`);
      } else if (seen.has(nodePort)) {
        problems.push(`Service ${service.metadata.name}: nodePort ${nodePort} is also used by ${seen.get(nodePort)}`);
      } else {
        seen.set(nodePort, service.metadata.name);
      }
    }
  }
  return problems;
}

function probeProblems(workload: Workload): string[] {
  const { container, name } = workload;
  const problems: string[] = [];
  const expected = PROBE_PATHS[serviceOfImage(container.image ?? '')?.folder ?? ''] ?? PROBE_PATHS.default!;
  for (const [probe, pathExpected] of Object.entries(expected) as [ProbeName, string][]) {
    const httpGet = container[probe]?.httpGet;
    if (!httpGet) problems.push(`${name}: no ${probe} with httpGet`);
    else {
      if (httpGet.path !== pathExpected) problems.push(`${name}: ${probe} path is ${httpGet.path}, expected ${pathExpected}`);
      if (resolveTargetPort(container, httpGet.port) === undefined) problems.push(`${name}: ${probe} port ${httpGet.port} is not a container port`);
    }
  }
  return problems;
}

function securityProblems(workload: Workload): string[] {
  const { name, container, template } = workload;
  const pod = template.spec!;
  const problems: string[] = [];
  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${name}: ${what}`);
  };
  check(pod.automountServiceAccountToken === false, 'automountServiceAccountToken must be false');
  check(podSecurity.runAsNonRoot === true, 'pod securityContext.runAsNonRoot must be true');
  check((podSecurity.runAsUser ?? 0) > 10000 && (podSecurity.runAsGroup ?? 0) > 10000, 'pod must run as uid and gid above 10000');
  check(podSecurity.seccompProfile?.type === 'RuntimeDefault', 'pod seccompProfile must be RuntimeDefault');
  check(security.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation must be false');
  check(security.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem must be true');
  check(JSON.stringify(security.capabilities?.drop) === '["ALL"]' && !security.capabilities?.add, 'capabilities must drop ALL and add none');
  check(security.privileged !== true, 'must not be privileged');
  const resources = container.resources ?? {};
  for (const kind of ['requests', 'limits'] as const) {
    check(Boolean(resources[kind]?.cpu && resources[kind]?.memory), `resources.${kind} must set cpu and memory`);
  }
  check((pod.terminationGracePeriodSeconds ?? 30) >= SHUTDOWN_SECONDS, `terminationGracePeriodSeconds must be at least ${SHUTDOWN_SECONDS}`);
  return problems;
}

function volumeProblems(workload: Workload): string[] {
  const mounts = (workload.container.volumeMounts ?? []).map((m) => m.mountPath);
  const volumes = new Set([
    ...(workload.template.spec!.volumes ?? []).map((v) => v.name),
    ...((workload.document.spec.volumeClaimTemplates ?? []) as ManifestDocument[]).map((c) => c.metadata.name),
  ]);
  const problems = (workload.container.volumeMounts ?? [])
    .filter((m) => !volumes.has(m.name))
    .map((m) => `${workload.name}: volumeMount ${m.name} has no volume`);
  const dataDir = envOf(workload.container).DATA_DIR;
  if (dataDir && !mounts.some((mount) => dataDir === mount || dataDir.startsWith(`${mount}/`))) {
    problems.push(`${workload.name}: DATA_DIR ${dataDir} is not on a mounted volume (the root filesystem is read-only)`);
  }
  return problems;
}

function imageProblems(workload: Workload): string[] {
  const { name, container } = workload;
  const image = serviceOfImage(container.image ?? '');
  if (!image) return [`${name}: image ${container.image} is not blog/<service>:<tag>`];
  const problems: string[] = [];
  if (!fs.existsSync(path.join(ROOT, image.folder, 'Dockerfile'))) problems.push(`${name}: no ${image.folder}/Dockerfile for ${container.image}`);
  if (image.tag !== VERSION) problems.push(`${name}: image tag ${image.tag} is not the project version ${VERSION}`);
  if (container.imagePullPolicy !== 'IfNotPresent') problems.push(`${name}: imagePullPolicy must be IfNotPresent (locally built images)`);
  return problems;
}

/** Every `secretKeyRef` and `envFrom.secretRef` must name a Secret in the manifests (and the key in it). */
function secretRefProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  for (const workload of manifests.workloads) {
    for (const variable of workload.container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const secret = manifests.secrets.find((s) => s.metadata.name === ref.name);
      if (!secret) problems.push(`${workload.name}: env ${variable.name} refers to Secret ${ref.name}, which is not in the manifests`);
      else if (!(ref.key in secretData(secret))) problems.push(`${workload.name}: env ${variable.name} refers to key ${ref.key}, which Secret ${ref.name} does not have`);
    }
    for (const source of workload.container.envFrom ?? []) {
      const name = source.secretRef?.name;
      if (name && !manifests.secrets.some((s) => s.metadata.name === name)) problems.push(`${workload.name}: envFrom refers to Secret ${name}, which is not in the manifests`);
    }
  }
  return problems;
}

/** The bus token's Secret, and where every workload must take BUS_TOKEN from. */
export const BUS_TOKEN_REF = { name: 'bus-token', key: 'token' } as const;

/** Workloads that never talk to the bus and face browsers: they must not be given the token at all. */
export const WITHOUT_BUS_TOKEN: readonly string[] = ['client-depl'];

/**
 * Every workload reads BUS_TOKEN from the bus-token Secret (never a literal in a manifest, never optional:
 * a pod without the token would be refused by the bus, or would let anyone in). The Secret's value in the
 * repository is the labelled development value.
 */
function busTokenProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  for (const workload of manifests.workloads) {
    const variables = (workload.container.env ?? []).filter((v) => v.name === 'BUS_TOKEN');
    const ref = variables[0]?.valueFrom?.secretKeyRef;
    if (WITHOUT_BUS_TOKEN.includes(workload.name) || isPackagedServer(workload)) {
      if (variables.length > 0) problems.push(`${workload.name}: never talks to the bus, so it must not be given BUS_TOKEN`);
      continue;
    }
    if (variables.length !== 1) problems.push(`${workload.name}: BUS_TOKEN is set ${variables.length} times, not once`);
    else if (variables[0]!.value !== undefined || !ref) problems.push(`${workload.name}: BUS_TOKEN must come from secretKeyRef ${BUS_TOKEN_REF.name}/${BUS_TOKEN_REF.key}, not a literal value`);
    else if (ref.name !== BUS_TOKEN_REF.name || ref.key !== BUS_TOKEN_REF.key) problems.push(`${workload.name}: BUS_TOKEN comes from ${ref.name}/${ref.key}, not ${BUS_TOKEN_REF.name}/${BUS_TOKEN_REF.key}`);
    else if (ref.optional) problems.push(`${workload.name}: BUS_TOKEN must not be optional (the pod would start without the token)`);
  }
  const secret = manifests.secrets.find((s) => s.metadata.name === BUS_TOKEN_REF.name);
  if (secret) {
    if (secret.metadata.labels?.['app.kubernetes.io/component'] !== 'dev-secret') problems.push(`Secret ${BUS_TOKEN_REF.name}: its development value must carry the label app.kubernetes.io/component: dev-secret`);
    const token = secretData(secret)[BUS_TOKEN_REF.key] ?? '';
    if (!/local-development/.test(token)) problems.push(`Secret ${BUS_TOKEN_REF.name}: the value in the repository must say it is the local development one`);
  }
  return problems;
}

/** Every way the manifests are wired wrong; an empty list means the checks found nothing. */
export function findWiringProblems(manifests: Manifests): string[] {
  return [
    ...selectorProblems(manifests),
    ...portProblems(manifests),
    ...urlProblems(manifests),
    ...nodePortProblems(manifests),
    ...secretRefProblems(manifests),
    ...busTokenProblems(manifests),
    ...manifests.workloads.flatMap((workload) => [
      ...probeProblems(workload),
      ...securityProblems(workload),
      ...volumeProblems(workload),
      ...imageProblems(workload),
    ]),
  ];
}

/** Backends of the optional Ingress and HTTPRoute must be Services and ports that exist. */
export function findRouteProblems(routes: ManifestDocument[], manifests: Manifests): string[] {
  const backends: { from: string; name: string; port: number }[] = [];
  for (const route of routes) {
    if (route.kind === 'Ingress') {
      for (const rule of route.spec.rules ?? []) {
        for (const p of rule.http?.paths ?? []) backends.push({ from: `Ingress ${p.path}`, name: p.backend.service.name, port: p.backend.service.port.number });
      }
    }
    if (route.kind === 'HTTPRoute') {
      for (const rule of route.spec.rules ?? []) {
        for (const ref of rule.backendRefs ?? []) backends.push({ from: 'HTTPRoute', name: ref.name, port: ref.port });
      }
    }
  }
  return backends.flatMap(({ from, name, port }) => {
    const ports = servicePorts(manifests, name);
    if (!ports) return [`${from}: backend ${name} is not a Service`];
    return ports.includes(port) ? [] : [`${from}: backend ${name} has no port ${port}`];
  });
}

