import fs from 'node:fs';
import path from 'node:path';
import type { EnvVar } from 'kubernetes-types/core/v1';
import { READ_ONLY_CALLERS } from '../../contracts/src/owners';
import { CALLER_NAMES } from '@blog/contracts';

import {
  ROOT,
  SUBSCRIBER_NAME,
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
 * Servers the project runs but did not write, from their official images (infra/scale's NATS): they take
 * their settings from a file rather than env (no PORT), answer their own health endpoints, and never talk
 * to the bus. Each is pinned to a release by its tag.
 */
export const OFFICIAL_SERVERS: readonly string[] = ['nats'];

/** An official image's name and release: docker.io/library/nats:2.14.5-alpine -> nats, 2.14.5-alpine. */
export function officialImageOf(image: string): { name: string; tag: string } | undefined {
  const match = /^docker\.io\/library\/([a-z-]+):(.+)$/.exec(image);
  return match && OFFICIAL_SERVERS.includes(match[1]!) ? { name: match[1]!, tag: match[2]! } : undefined;
}

const isPackagedServer = (workload: Workload) => officialImageOf(workload.container.image ?? '') !== undefined;

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

/**
 * The app each URL variable must lead to (through a Service that selects that app's pods): the bus for
 * EVENT_BUS_URL (the services publish there, the client reads the flow page from it), each service for
 * its own. A URL that names a real Service, on a real port, of the wrong workload is wired wrong all the same.
 */
export const URL_TARGETS: Readonly<Record<string, string>> = {
  EVENT_BUS_URL: 'event-bus',
  POSTS_URL: 'posts',
  COMMENTS_URL: 'comments',
  QUERY_URL: 'query',
  MODERATION_URL: 'moderation',
};

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

/** Each URL variable of URL_TARGETS leads, through its Service, to the pods of the app it is named for. */
function urlTargetProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  for (const workload of manifests.workloads) {
    for (const [name, value] of Object.entries(envOf(workload.container))) {
      const app = URL_TARGETS[name];
      if (!app) continue;
      for (const { url } of urlsIn(value)) {
        const service = manifests.services.find((s) => s.metadata.name === url.hostname);
        // A host that is no Service is urlProblems' to report.
        if (!service) continue;
        const targets = manifests.workloads.filter((w) => selects(service, w));
        const apps = targets.map(appOf);
        if (!apps.includes(app)) {
          problems.push(`${workload.name}: ${name} points at ${url.hostname}, which leads to ${targets.map((w) => `${w.name} (app ${appOf(w)})`).join(', ') || 'no pods'}, not to app ${app}`);
        }
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
  const expected = PROBE_PATHS[officialImageOf(container.image ?? '')?.name ?? ''] ?? PROBE_PATHS.default!;
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
  const official = officialImageOf(container.image ?? '');
  if (official) {
    // A release, so every node runs the same server; pulled once per node.
    if (!/^\d+\.\d+\.\d+(-[a-z0-9.]+)?$/.test(official.tag)) return [`${name}: image ${container.image} is not pinned to a release (x.y.z)`];
    return container.imagePullPolicy === 'IfNotPresent' ? [] : [`${name}: imagePullPolicy must be IfNotPresent (pulled once per node)`];
  }
  const image = serviceOfImage(container.image ?? '');
  if (!image) return [`${name}: image ${container.image} is neither blog/<service>:<tag> nor an official server's image`];
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

/**
 * Who calls the bus, each with a token of its own (launcher/src/credentials.ts, the same list the local
 * launcher makes credentials for): the four services, the client server (read only, for the flow page)
 * and the operator, who runs the cluster and is the one that may send dead letters back.
 */
export const BUS_CALLERS: readonly string[] = CALLER_NAMES;

/** The Secret and key that hold one caller's token (infra/k8s/bus-credentials.yaml): posts-bus-credential/token. */
export const credentialRefOf = (caller: string) => ({ name: `${caller}-bus-credential`, key: 'token' });

/**
 * Workloads of ours that never talk to the bus: they must not hold any credential at all. None today: the
 * client reads the bus (the flow page) with its own read-only credential. (NATS, a packaged server, is
 * held to the same rule: see isPackagedServer.)
 */
export const WITHOUT_BUS_TOKEN: readonly string[] = [];

/** The app label of the bus's pods (the StatefulSet of infra/k8s, the gateway Deployment of infra/scale). */
export const BUS_APP = 'event-bus';

const appOf = (workload: Workload) => workload.template.metadata?.labels?.app;

/** The caller a workload's pods are, by their app label (posts-depl: posts, client-depl: client); undefined for the bus and NATS. */
export function callerOf(workload: Workload): string | undefined {
  const app = appOf(workload);
  return app && app !== BUS_APP && BUS_CALLERS.includes(app) ? app : undefined;
}

const describeRef = (ref: { name: string; key: string }) => `${ref.name}/${ref.key}`;
const credentialSecretNames = () => new Set(BUS_CALLERS.map((caller) => credentialRefOf(caller).name));

/**
 * One variable that must come from exactly one Secret's key: not written into the manifest (it would be in
 * the repository and in every `kubectl get -o yaml`), not another Secret, not optional (the pod would
 * start without it).
 */
export function secretVariableProblems(where: string, what: string, variables: EnvVar[], expected: { name: string; key: string }, owner: string): string[] {
  if (variables.length !== 1) return [`${where}: ${what} is set ${variables.length} times, not once`];
  const variable = variables[0]!;
  const ref = variable.valueFrom?.secretKeyRef;
  if (variable.value !== undefined || !ref) return [`${where}: ${what} must come from secretKeyRef ${describeRef(expected)}, not a literal value`];
  if (ref.name !== expected.name || ref.key !== expected.key) return [`${where}: ${what} comes from ${ref.name}/${ref.key}, not ${owner} ${describeRef(expected)}`];
  if (ref.optional) return [`${where}: ${what} must not be optional (the pod would start without it)`];
  return [];
}

/**
 * A caller's workload (a service, the client) holds its own credential as BUS_TOKEN, and no other caller's,
 * in any variable; and it has the bus's address to use it with (EVENT_BUS_URL; urlTargetProblems checks
 * that it leads to the bus), or the token would go to the code's default, which is no address in a cluster.
 */
function serviceCredentialProblems(workload: Workload, caller: string): string[] {
  const env = workload.container.env ?? [];
  const own = credentialRefOf(caller);
  const problems = secretVariableProblems(workload.name, 'BUS_TOKEN', env.filter((v) => v.name === 'BUS_TOKEN'), own, 'its own credential');
  if (!env.some((v) => v.name === 'EVENT_BUS_URL')) problems.push(`${workload.name}: holds ${caller}'s bus credential but has no EVENT_BUS_URL to use it with`);
  if (env.some((v) => v.name === 'BUS_CREDENTIALS')) problems.push(`${workload.name}: is given BUS_CREDENTIALS, every caller's tokens; only the bus holds them`);
  const credentials = credentialSecretNames();
  for (const variable of env) {
    const secret = variable.valueFrom?.secretKeyRef?.name;
    // BUS_TOKEN itself is judged above.
    if (variable.name !== 'BUS_TOKEN' && secret && credentials.has(secret) && secret !== own.name) {
      problems.push(`${workload.name}: env ${variable.name} reads ${secret}, another caller's credential; a service holds only its own (${own.name})`);
    }
  }
  return problems;
}

/** The referenced variable's name when a BUS_CREDENTIALS token is exactly `$(NAME)`. */
const REFERENCE = /^\$\(([^)]*)\)$/;

/**
 * The bus holds every caller's credential and no token of its own: BUS_CREDENTIALS names each caller once,
 * each token a `$(VAR)` of a variable defined before it (the kubelet expands only those) from that caller's
 * own Secret; its SUBSCRIBERS are named, each the caller whose Service its URL leads to.
 */
function busCredentialProblems(workload: Workload, manifests: Manifests): string[] {
  const { name } = workload;
  const env = workload.container.env ?? [];
  const problems: string[] = [];
  if (env.some((v) => v.name === 'BUS_TOKEN')) problems.push(`${name}: BUS_TOKEN is set, but the bus refuses it: it takes every caller's token in BUS_CREDENTIALS`);
  const lists = env.filter((v) => v.name === 'BUS_CREDENTIALS');
  if (lists.length !== 1) return [...problems, `${name}: BUS_CREDENTIALS is set ${lists.length} times, not once`];
  const list = lists[0]!;
  if (list.value === undefined) return [...problems, `${name}: BUS_CREDENTIALS must be a value of name:$(VAR) entries, each VAR from that caller's Secret, not read from elsewhere`];
  const at = env.indexOf(list);
  const named = new Set<string>();
  for (const entry of list.value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const caller = colon === -1 ? entry : entry.slice(0, colon);
    const token = colon === -1 ? '' : entry.slice(colon + 1);
    if (!BUS_CALLERS.includes(caller)) {
      problems.push(`${name}: BUS_CREDENTIALS names ${caller}, which is not a caller of the bus (${BUS_CALLERS.join(', ')})`);
      continue;
    }
    if (named.has(caller)) problems.push(`${name}: BUS_CREDENTIALS names ${caller} twice`);
    named.add(caller);
    const expected = credentialRefOf(caller);
    const reference = REFERENCE.exec(token)?.[1];
    if (reference === undefined) {
      problems.push(`${name}: BUS_CREDENTIALS gives ${caller} a token written into the manifest; it must be $(VAR) of a variable from secretKeyRef ${describeRef(expected)}`);
      continue;
    }
    const before = env.slice(0, at).filter((v) => v.name === reference);
    if (before.length === 0) {
      const after = env.slice(at + 1).some((v) => v.name === reference);
      problems.push(
        after
          ? `${name}: BUS_CREDENTIALS uses $(${reference}), which is defined after it, so the kubelet leaves it unexpanded`
          : `${name}: BUS_CREDENTIALS uses $(${reference}), which no variable before it defines, so the kubelet leaves it unexpanded`,
      );
      continue;
    }
    problems.push(...secretVariableProblems(name, `${reference} (${caller}'s token in BUS_CREDENTIALS)`, before, expected, `${caller}'s credential`));
  }
  for (const caller of BUS_CALLERS.filter((c) => !named.has(c))) problems.push(`${name}: BUS_CREDENTIALS leaves out ${caller}, whose calls the bus would then refuse`);

  const subscribers = env.find((v) => v.name === 'SUBSCRIBERS')?.value;
  if (subscribers !== undefined && subscribers.trim() !== 'none') {
    for (const entry of subscribers.split(',').map((part) => part.trim()).filter(Boolean)) {
      const subscriber = SUBSCRIBER_NAME.exec(entry)?.[1];
      if (!subscriber) {
        problems.push(`${name}: SUBSCRIBERS entry ${entry} has no name=, so its deliveries carry no caller's credential`);
        continue;
      }
      if (!named.has(subscriber)) problems.push(`${name}: SUBSCRIBERS names ${subscriber}, which has no credential in BUS_CREDENTIALS`);
      if (READ_ONLY_CALLERS.includes(subscriber)) problems.push(`${name}: SUBSCRIBERS names ${subscriber}, a read-only caller: it takes no deliveries (and may publish nothing in its answers)`);
      for (const { url } of urlsIn(entry)) {
        const service = manifests.services.find((s) => s.metadata.name === url.hostname);
        const target = service && manifests.workloads.find((w) => selects(service, w));
        const app = target && appOf(target);
        if (app && app !== subscriber) problems.push(`${name}: SUBSCRIBERS delivers to ${url.hostname} (${target!.name}) with ${subscriber}'s credential, not ${app}'s`);
      }
    }
  }
  return problems;
}

/**
 * Every Secret in the repository is a development value: labelled so that an apply can skip it, and saying
 * so in every value. Each caller has its credential Secret, at least 16 characters (the bus's rule), and
 * no two Secrets hold the same value (the bus refuses two callers with one token, and a NATS password
 * shared with a service would let that service log in as another user).
 */
function secretProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  const holders = new Map<string, string>();
  for (const secret of manifests.secrets) {
    const { name } = secret.metadata;
    if (secret.metadata.labels?.['app.kubernetes.io/component'] !== 'dev-secret') problems.push(`Secret ${name}: its development value must carry the label app.kubernetes.io/component: dev-secret`);
    for (const [key, value] of Object.entries(secretData(secret))) {
      if (!/local-development/.test(value)) problems.push(`Secret ${name}: the value of ${key} in the repository must say it is the local development one`);
      const holder = holders.get(value);
      if (holder) problems.push(`Secret ${name}: ${key} holds the same value as ${holder}; each credential needs its own`);
      else holders.set(value, `${name}/${key}`);
    }
  }
  for (const caller of BUS_CALLERS) {
    const ref = credentialRefOf(caller);
    const secret = manifests.secrets.find((s) => s.metadata.name === ref.name);
    const token = secret && secretData(secret)[ref.key];
    if (!secret) problems.push(`Secret ${ref.name}: not in the manifests, so ${caller} has no credential`);
    else if (token === undefined) problems.push(`Secret ${ref.name}: has no key ${ref.key}`);
    else if (token.length < 16) problems.push(`Secret ${ref.name}: its ${ref.key} has ${token.length} characters; the bus takes a token of 16 or more`);
  }
  return problems;
}

/**
 * Least privilege on the bus, as the manifests give it: each service, and the client (read only, for the
 * flow page), reads its own credential as BUS_TOKEN (from its own Secret, never a literal, never optional,
 * never another's) and never BUS_CREDENTIALS; the bus reads every caller's and builds BUS_CREDENTIALS from
 * them; NATS gets none of it (it reads the services' credentials as their passwords: scaleWiring.ts checks
 * that); the Secrets are the labelled development values.
 */
function credentialProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  const credentials = credentialSecretNames();
  for (const workload of manifests.workloads) {
    const env = workload.container.env ?? [];
    for (const source of workload.container.envFrom ?? []) {
      if (source.secretRef?.name && credentials.has(source.secretRef.name)) problems.push(`${workload.name}: envFrom takes all of ${source.secretRef.name}; take the token into its variable by secretKeyRef`);
    }
    if (WITHOUT_BUS_TOKEN.includes(workload.name) || isPackagedServer(workload)) {
      for (const variable of ['BUS_TOKEN', 'BUS_CREDENTIALS']) {
        if (env.some((v) => v.name === variable)) problems.push(`${workload.name}: never talks to the bus, so it must not be given ${variable}`);
      }
      if (isPackagedServer(workload)) continue;
      for (const variable of env.filter((v) => credentials.has(v.valueFrom?.secretKeyRef?.name ?? ''))) {
        problems.push(`${workload.name}: never talks to the bus, so it must not hold ${variable.valueFrom!.secretKeyRef!.name} (env ${variable.name})`);
      }
      continue;
    }
    if (appOf(workload) === BUS_APP) {
      problems.push(...busCredentialProblems(workload, manifests));
      continue;
    }
    const caller = callerOf(workload);
    if (!caller) problems.push(`${workload.name}: its pods' app label (${appOf(workload)}) names no caller of the bus (${BUS_CALLERS.join(', ')}), so it has no credential`);
    else problems.push(...serviceCredentialProblems(workload, caller));
  }
  return [...problems, ...secretProblems(manifests)];
}

/** Every way the manifests are wired wrong; an empty list means the checks found nothing. */
export function findWiringProblems(manifests: Manifests): string[] {
  return [
    ...selectorProblems(manifests),
    ...portProblems(manifests),
    ...urlProblems(manifests),
    ...urlTargetProblems(manifests),
    ...nodePortProblems(manifests),
    ...secretRefProblems(manifests),
    ...credentialProblems(manifests),
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

