/**
 * The promises of the infra/scale overlay, as checks over its rendered objects: every service replicated
 * with a disruption budget and a spread over nodes, the bus a stateless Deployment, NATS a StatefulSet of
 * three whose configuration file, Services and volume agree with each other, every NATS_URL naming the nats
 * Service on its client port, and NATS's users: the servers started with the generated users file, each
 * user's password from the Secret its workload logs in with. Each check answers readable problems; none
 * means the overlay keeps them.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { Service } from 'kubernetes-types/core/v1';
import { NATS_CLUSTER_SYNC, natsServerConfig } from '@blog/contracts';
import { NATS_GATEWAY_USER, NATS_SERVICE_USERS, natsAuthorizationConfig, passwordVariableOf } from '@blog/service-kit';
import { BUS_APP, BUS_CALLERS, credentialRefOf, secretVariableProblems } from './k8sWiring';
import { selectorMatches } from './networkPolicies';
import { envOf, resolveTargetPort, selects, urlsIn, type ManifestDocument, type Manifests, type Workload } from './manifests';

/** The Service every NATS_URL must name: a ClusterIP over all NATS pods (NATS_URL=nats://nats:4222). */
export const NATS_SERVICE = 'nats';
/** The StatefulSet of the NATS servers. */
export const NATS_WORKLOAD = 'nats';
/** Servers in the NATS cluster: a stream of three replicas survives the loss of one. */
export const NATS_SERVERS = 3;
/** Copies of each stream the services ask for (NATS_REPLICAS). */
export const STREAM_REPLICAS = 3;
/**
 * Workloads that never talk to NATS: the client, which reads the bus (the flow page) through the gateway's
 * HTTP API on 4005 with its read-only bus credential, never NATS itself.
 */
export const WITHOUT_NATS: readonly string[] = ['client-depl'];
/** Fewest replicas of each service: one may be lost or drained while another serves. */
export const MIN_REPLICAS = 2;

/** A selector that names something and matches these labels (an empty one would take every pod of the namespace). */
function labelsMatch(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
  return !empty && selectorMatches(selector, labels);
}

const podLabels = (workload: Workload) => (workload.template.metadata?.labels ?? {}) as Record<string, string>;
const replicasOf = (workload: Workload): number => workload.document.spec.replicas ?? 1;

/** Pods a budget lets be evicted at once out of `replicas`, as the disruption controller counts them. */
export function allowedDisruptions(budget: ManifestDocument, replicas: number): number {
  const count = (value: number | string) => (typeof value === 'number' ? value : Math.ceil((replicas * Number(value.replace('%', ''))) / 100));
  const { minAvailable, maxUnavailable } = budget.spec ?? {};
  if (maxUnavailable !== undefined) return Math.min(count(maxUnavailable), replicas);
  if (minAvailable !== undefined) return Math.max(replicas - count(minAvailable), 0);
  return replicas;
}

function replicaProblems({ workloads }: Manifests): string[] {
  return workloads
    .filter((w) => w.kind === 'Deployment' && replicasOf(w) < MIN_REPLICAS)
    .map((w) => `${w.name}: ${replicasOf(w)} replica(s), fewer than ${MIN_REPLICAS}`);
}

/**
 * Every workload has exactly one budget over its pods, which lets a drain evict one pod and keeps at
 * least one running (for NATS: a majority, so every stream keeps its quorum); no budget selects nothing.
 */
function budgetProblems({ workloads, disruptionBudgets }: Manifests): string[] {
  const problems: string[] = [];
  for (const workload of workloads) {
    const budgets = disruptionBudgets.filter((b) => labelsMatch(b.spec?.selector, podLabels(workload)));
    if (budgets.length !== 1) {
      problems.push(`${workload.name}: ${budgets.length} PodDisruptionBudgets select its pods (${budgets.map((b) => b.metadata.name).join(', ') || 'none'}), not exactly one`);
      continue;
    }
    const replicas = replicasOf(workload);
    const allowed = allowedDisruptions(budgets[0]!, replicas);
    const mustKeep = workload.name === NATS_WORKLOAD ? Math.floor(replicas / 2) + 1 : 1;
    if (allowed < 1) problems.push(`${workload.name}: its budget ${budgets[0]!.metadata.name} lets no pod be evicted, so a node drain would never finish`);
    if (replicas - allowed < mustKeep) problems.push(`${workload.name}: its budget ${budgets[0]!.metadata.name} lets ${allowed} of ${replicas} pods go, leaving fewer than ${mustKeep}`);
  }
  for (const budget of disruptionBudgets) {
    if (!workloads.some((w) => labelsMatch(budget.spec?.selector, podLabels(w)))) problems.push(`PodDisruptionBudget ${budget.metadata.name}: selects no workload's pods`);
  }
  return problems;
}

/** Replicas spread over nodes, one at most more on any node, but never left unscheduled on a one-node cluster. */
function spreadProblems({ workloads }: Manifests): string[] {
  const problems: string[] = [];
  for (const workload of workloads) {
    const constraints = workload.template.spec?.topologySpreadConstraints ?? [];
    const byNode = constraints.find((c) => c.topologyKey === 'kubernetes.io/hostname');
    if (!byNode) {
      problems.push(`${workload.name}: no topologySpreadConstraint over kubernetes.io/hostname`);
      continue;
    }
    if (byNode.maxSkew !== 1) problems.push(`${workload.name}: spread maxSkew is ${byNode.maxSkew}, not 1`);
    if (byNode.whenUnsatisfiable !== 'ScheduleAnyway') problems.push(`${workload.name}: spread is ${byNode.whenUnsatisfiable}, not ScheduleAnyway (a one-node cluster could not run every replica)`);
    if (!labelsMatch(byNode.labelSelector, podLabels(workload))) problems.push(`${workload.name}: its spread's labelSelector does not select its own pods`);
    const others = workloads.filter((w) => w !== workload && labelsMatch(byNode.labelSelector, podLabels(w)));
    if (others.length > 0) problems.push(`${workload.name}: its spread's labelSelector also counts the pods of ${others.map((w) => w.name).join(', ')}`);
  }
  return problems;
}

const portOf = (workload: Workload, name: string) => resolveTargetPort(workload.container, name);

/** Where the PersistentVolumeClaim of the NATS pods is mounted: their JetStream store. */
function claimMountOf(nats: Workload): string | undefined {
  const claims = ((nats.document.spec.volumeClaimTemplates ?? []) as ManifestDocument[]).map((c) => c.metadata.name);
  return (nats.container.volumeMounts ?? []).find((m) => claims.includes(m.name))?.mountPath;
}

/**
 * nats.conf as the StatefulSet's own facts make it: natsServerConfig() with its container ports, its
 * claim's mount as the store, every pod's name on the headless Service as the routes, the pod's name as
 * the server's, and the users file beside it. The ConfigMap's nats.conf must be exactly this.
 */
export function expectedNatsConfig(nats: Workload): string {
  const { serviceName } = nats.document.spec;
  const clusterPort = portOf(nats, 'cluster');
  return natsServerConfig({
    name: `$${NATS_SERVER_NAME_VARIABLE}`,
    listen: `0.0.0.0:${portOf(nats, 'client')}`,
    monitor: `0.0.0.0:${portOf(nats, 'monitor')}`,
    storeDir: claimMountOf(nats) ?? '(no claim mounted)',
    sync: NATS_CLUSTER_SYNC,
    cluster: { listen: `0.0.0.0:${clusterPort}`, routes: Array.from({ length: replicasOf(nats) }, (_, i) => `nats://${nats.name}-${i}.${serviceName}:${clusterPort}`) },
    usersFile: NATS_USERS_FILE,
  });
}

/** The variable nats.conf names the server by, which the pod's env must fill with its own name. */
const NATS_SERVER_NAME_VARIABLE = 'POD_NAME';
/** The users file nats.conf includes, beside it on the same ConfigMap volume. */
const NATS_USERS_FILE = 'users.conf';

/**
 * NATS as a StatefulSet of three: started in parallel (a node waits for its peers), each pod named by the
 * headless Service the StatefulSet names, its store on the PersistentVolumeClaim, and its configuration
 * file saying the ports its container and Services declare and routing to every pod on the cluster port.
 */
function natsProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  const nats = manifests.workloads.find((w) => w.name === NATS_WORKLOAD);
  if (!nats) return [`no workload ${NATS_WORKLOAD}`];
  const spec = nats.document.spec;
  if (nats.kind !== 'StatefulSet') problems.push(`${nats.name}: a ${nats.kind}, not a StatefulSet (each server needs its own store and a stable name)`);
  if (replicasOf(nats) !== NATS_SERVERS) problems.push(`${nats.name}: ${replicasOf(nats)} replicas, not ${NATS_SERVERS}`);
  if (spec.podManagementPolicy !== 'Parallel') problems.push(`${nats.name}: podManagementPolicy is ${spec.podManagementPolicy ?? 'OrderedReady'}, not Parallel (the first pod would wait for peers that are not started)`);

  const headless = manifests.services.find((s) => s.metadata.name === spec.serviceName);
  if (!headless) problems.push(`${nats.name}: serviceName ${spec.serviceName} is not a Service`);
  else {
    if (headless.spec?.clusterIP !== 'None') problems.push(`Service ${headless.metadata.name}: not headless (clusterIP: None), so the pods get no DNS names of their own`);
    if (headless.spec?.publishNotReadyAddresses !== true) problems.push(`Service ${headless.metadata.name}: publishNotReadyAddresses is not true, so nodes that are not ready yet cannot find each other`);
    if (!selects(headless as Service, nats)) problems.push(`Service ${headless.metadata.name}: does not select the ${nats.name} pods`);
  }

  if (['client', 'cluster', 'monitor'].some((name) => portOf(nats, name) === undefined)) problems.push(`${nats.name}: needs container ports named client, cluster and monitor`);
  if (!claimMountOf(nats)) problems.push(`${nats.name}: no PersistentVolumeClaim of the volumeClaimTemplates is mounted for the store`);
  const podName = (nats.container.env ?? []).find((e) => e.name === NATS_SERVER_NAME_VARIABLE);
  if (podName?.valueFrom?.fieldRef?.fieldPath !== 'metadata.name') problems.push(`${nats.name}: ${NATS_SERVER_NAME_VARIABLE}, the server name in nats.conf, must be the pod's name, from the downward API`);
  const { config, problems: fileProblems } = natsConfigFiles(manifests);
  problems.push(...fileProblems);
  const expected = expectedNatsConfig(nats);
  if (config !== undefined && config !== expected) {
    problems.push(`${nats.name}: nats.conf differs from what its ports, store volume and pods say (natsServerConfig); infra/scale/nats.conf should read:\n${expected}`);
  }
  return problems;
}

/**
 * Every workload but the client names NATS in NATS_URL, always the nats Service on the port that leads to
 * the servers' client port, and asks for the stream's replicas; the client has neither.
 */
function natsUrlProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  const nats = manifests.workloads.find((w) => w.name === NATS_WORKLOAD);
  const service = manifests.services.find((s) => s.metadata.name === NATS_SERVICE);
  if (!service) problems.push(`no Service ${NATS_SERVICE}`);
  else if (service.spec?.clusterIP === 'None') problems.push(`Service ${NATS_SERVICE}: headless; the services need one address that is only ever a ready server`);
  const clientPorts = (service?.spec?.ports ?? [])
    .filter((p) => nats && resolveTargetPort(nats.container, p.targetPort ?? p.port) === portOf(nats, 'client'))
    .map((p) => p.port);
  for (const workload of manifests.workloads.filter((w) => w.name !== NATS_WORKLOAD)) {
    const env = envOf(workload.container);
    if (WITHOUT_NATS.includes(workload.name)) {
      if ('NATS_URL' in env) problems.push(`${workload.name}: never talks to NATS, so it must not be given NATS_URL`);
      continue;
    }
    const urls = urlsIn(env.NATS_URL ?? '');
    if (urls.length === 0) problems.push(`${workload.name}: no NATS_URL, so it runs the embedded engine`);
    for (const { url, port } of urls) {
      if (url.hostname !== NATS_SERVICE) problems.push(`${workload.name}: NATS_URL names ${url.hostname}, not the Service ${NATS_SERVICE}`);
      else if (!clientPorts.includes(port)) problems.push(`${workload.name}: NATS_URL uses port ${port}, which does not lead to the NATS client port`);
    }
    const replicas = Number(env.NATS_REPLICAS);
    if (replicas !== STREAM_REPLICAS) problems.push(`${workload.name}: NATS_REPLICAS is ${env.NATS_REPLICAS ?? 'unset'}, not ${STREAM_REPLICAS}`);
    if (nats && replicas > replicasOf(nats)) problems.push(`${workload.name}: NATS_REPLICAS ${replicas} is more than the ${replicasOf(nats)} NATS servers`);
  }
  return problems;
}

/** With NATS the stream is the log: the bus is a Deployment that keeps nothing, and no other workload keeps state. */
function statelessBusProblems(manifests: Manifests): string[] {
  const problems: string[] = [];
  const buses = manifests.workloads.filter((w) => podLabels(w).app === 'event-bus');
  if (buses.length !== 1) return [`${buses.length} workloads run the event bus, not one`];
  const bus = buses[0]!;
  const env = envOf(bus.container);
  if (bus.kind !== 'Deployment') problems.push(`${bus.name}: a ${bus.kind}, not a Deployment (it keeps no state)`);
  if (bus.document.spec.volumeClaimTemplates) problems.push(`${bus.name}: has volumeClaimTemplates, but keeps no log`);
  for (const name of ['DATA_DIR', 'SUBSCRIBERS']) if (name in env) problems.push(`${bus.name}: ${name} is set, but the gateway neither keeps a log nor delivers`);
  for (const workload of manifests.workloads.filter((w) => w.kind === 'StatefulSet' && w.name !== NATS_WORKLOAD)) {
    problems.push(`${workload.name}: a StatefulSet beside NATS; with NATS only the servers keep state`);
  }
  return problems;
}

/** The Secret that holds the gateway's NATS password (infra/scale/event-bus-nats-credential.yaml). */
export const GATEWAY_NATS_CREDENTIAL = { name: 'event-bus-nats-credential', key: 'token' } as const;

/** Where the NATS servers read a user's password from: a service's own bus credential, the gateway's own Secret. */
export const natsPasswordRefOf = (user: string): { name: string; key: string } => (user === NATS_GATEWAY_USER ? GATEWAY_NATS_CREDENTIAL : credentialRefOf(user));

/** The NATS user a workload logs in as: the gateway's for the bus, else its pods' app label (posts-depl: posts). */
const natsUserOf = (workload: Workload) => (podLabels(workload).app === BUS_APP ? NATS_GATEWAY_USER : podLabels(workload).app);

/** How to write infra/scale/nats-users.conf again when the owners map has changed. */
export const WRITE_NATS_USERS = `npx tsc -b && node -e "process.stdout.write(require('./service-kit/dist').natsAuthorizationConfig())" > infra/scale/nats-users.conf`;

/** The text of a file on a ConfigMap volume the NATS container mounts, with the problems on the way to it. */
function configMapFile(manifests: Manifests, nats: Workload, file: string, what: string): { text?: string; problems: string[] } {
  const mount = (nats.container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  if (!mount) return { problems: [`${nats.name}: ${what} ${file} is not on a mounted volume`] };
  const problems: string[] = [];
  if (mount.readOnly !== true) problems.push(`${nats.name}: the volume ${mount.name} with ${what} must be mounted readOnly`);
  const source = (nats.template.spec?.volumes ?? []).find((v) => v.name === mount.name)?.configMap;
  if (!source?.name) return { problems: [...problems, `${nats.name}: ${what} ${file} is not on a ConfigMap volume`] };
  const configMap = manifests.configMaps.find((c) => c.metadata.name === source.name);
  if (!configMap) return { problems: [...problems, `${nats.name}: the ConfigMap ${source.name} of ${what} is not in the manifests`] };
  const relative = file.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const key = (source.items ?? []).find((item) => item.path === relative)?.key ?? relative;
  const text = configMap.data?.[key];
  if (text === undefined) return { problems: [...problems, `ConfigMap ${source.name}: has no key ${key}, ${what} ${file}`] };
  return { text, problems };
}

/**
 * The files the NATS servers are started with: the configuration (`--config <file>`) and the users file it
 * includes beside it, from the ConfigMap mounted there, with the problems on the way to them.
 */
export function natsConfigFiles(manifests: Manifests): { config?: string; users?: string; configPath?: string; usersPath?: string; problems: string[] } {
  const nats = manifests.workloads.find((w) => w.name === NATS_WORKLOAD);
  if (!nats) return { problems: [] };
  const args = nats.container.args ?? [];
  const configPath = args[1];
  if (args.length !== 2 || !['-c', '--config'].includes(args[0] ?? '') || !configPath) {
    return { problems: [`${nats.name}: its args must be --config <file> and nothing else: every setting is in the file`] };
  }
  const usersPath = `${configPath.slice(0, configPath.lastIndexOf('/'))}/${NATS_USERS_FILE}`;
  const config = configMapFile(manifests, nats, configPath, 'the configuration');
  const users = configMapFile(manifests, nats, usersPath, 'the users file');
  return { config: config.text, users: users.text, configPath, usersPath, problems: [...config.problems, ...users.problems] };
}

/**
 * NATS's users as the overlay gives them: the servers start with the users file, which is exactly what
 * natsAuthorizationConfig() generates from the event owners map, and read every user's password from the
 * Secret that user logs in with; each workload that talks to NATS logs in as its own user (a service by
 * its name, with its own bus credential; the gateway as event-bus, with its own Secret). The client has none,
 * and the NATS servers read no credential of a caller that is no NATS user (the client's, the operator's).
 */
function natsUserProblems(manifests: Manifests): string[] {
  const nats = manifests.workloads.find((w) => w.name === NATS_WORKLOAD);
  if (!nats) return [];
  const { users: text } = natsConfigFiles(manifests);
  const problems: string[] = [];
  if (text !== undefined && text !== natsAuthorizationConfig()) {
    problems.push(`${nats.name}: its users file differs from natsAuthorizationConfig() (contracts/src/owners.ts); write infra/scale/nats-users.conf again: ${WRITE_NATS_USERS}`);
  }
  const env = nats.container.env ?? [];
  for (const user of [...NATS_SERVICE_USERS, NATS_GATEWAY_USER]) {
    const variable = passwordVariableOf(user);
    problems.push(...secretVariableProblems(nats.name, `${variable} (user ${user}'s password)`, env.filter((v) => v.name === variable), natsPasswordRefOf(user), `the Secret ${user} logs in with,`));
  }
  const users: readonly string[] = NATS_SERVICE_USERS;
  for (const caller of BUS_CALLERS.filter((c) => !users.includes(c))) {
    const secret = credentialRefOf(caller).name;
    for (const variable of env.filter((v) => v.valueFrom?.secretKeyRef?.name === secret)) {
      problems.push(`${nats.name}: env ${variable.name} reads ${secret}, ${caller}'s bus credential; ${caller} is no NATS user, so the servers must not hold it`);
    }
  }
  for (const workload of manifests.workloads.filter((w) => w !== nats)) {
    const variables = workload.container.env ?? [];
    if (WITHOUT_NATS.includes(workload.name)) {
      for (const name of ['NATS_USER', 'NATS_PASSWORD']) if (variables.some((v) => v.name === name)) problems.push(`${workload.name}: never talks to NATS, so it must not be given ${name}`);
      continue;
    }
    const user = natsUserOf(workload);
    if (!user || ![...NATS_SERVICE_USERS, NATS_GATEWAY_USER].includes(user)) {
      problems.push(`${workload.name}: no NATS user is its own (${[...NATS_SERVICE_USERS, NATS_GATEWAY_USER].join(', ')})`);
      continue;
    }
    const logins = variables.filter((v) => v.name === 'NATS_USER');
    if (logins.length !== 1 || logins[0]!.value !== user) {
      problems.push(`${workload.name}: logs in to NATS as ${logins.map((v) => v.value ?? '(a value from elsewhere)').join(', ') || 'nobody (no NATS_USER)'}, not as its own user ${user}`);
    }
    problems.push(...secretVariableProblems(workload.name, 'NATS_PASSWORD', variables.filter((v) => v.name === 'NATS_PASSWORD'), natsPasswordRefOf(user), `the Secret the NATS servers read ${user}'s password from,`));
  }
  return problems;
}

/** Every way the rendered overlay breaks a promise of infra/scale; an empty list means none. */
export function findScaleProblems(manifests: Manifests): string[] {
  return [
    ...replicaProblems(manifests),
    ...budgetProblems(manifests),
    ...spreadProblems(manifests),
    ...natsProblems(manifests),
    ...natsUrlProblems(manifests),
    ...statelessBusProblems(manifests),
    ...natsUserProblems(manifests),
  ];
}
