/**
 * A small evaluator of Kubernetes NetworkPolicies over the parsed manifests: for a connection from one
 * endpoint to a pod's port it answers whether the policies let it through, the way an enforcing network
 * plugin would (networking.k8s.io/v1 semantics):
 *
 * - a pod selected by no policy of a direction (Ingress, Egress) is not isolated in that direction;
 * - once selected, only what some selecting policy's rules allow gets through (rules add up, never deny);
 * - a rule with no `from`/`to` allows every peer, with no `ports` every port; `ingress: []` allows nothing;
 * - a peer's podSelector alone means pods of the policy's namespace; with a namespaceSelector, pods of the
 *   namespaces it selects; an empty selector selects all; ipBlock matches addresses (with `except`);
 * - a named port is the destination container's port of that name; `endPort` makes a range;
 * - `policyTypes` defaults to Ingress, plus Egress when the policy has egress rules;
 * - a connection needs the source's egress and the destination's ingress to allow it;
 * - a pod's connection to itself, and the kubelet's (from the pod's own node), are always allowed, so
 *   probes are not modelled.
 */
import { urlsIn, type ManifestDocument, type Manifests } from './manifests';

export const APP_NAMESPACE = 'blog';

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

/** One end of a connection: a pod (with its namespace, labels, address and ports), or an address outside. */
export interface Endpoint {
  name: string;
  /** Undefined for an address outside the cluster, which no pod or namespace selector matches. */
  namespace?: string;
  labels: Record<string, string>;
  ip: string;
  ports: { name?: string; containerPort: number; protocol?: string }[];
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const matchExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        throw new Error(`unknown label selector operator ${operator}`);
    }
  });
  return matchLabels && matchExpressions;
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const ip = ipv4(address);
  const network = ipv4(base ?? '');
  if (ip === undefined || network === undefined) return false;
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (ip & mask) === (network & mask);
}

export class PolicyEvaluator {
  private readonly policies: { namespace: string; spec: any; name: string }[];

  /** namespaceLabels: the labels of each namespace (every namespace has kubernetes.io/metadata.name). */
  constructor(
    policies: ManifestDocument[],
    private readonly namespaceLabels: Record<string, Record<string, string>> = {},
  ) {
    this.policies = policies.map((p) => ({ name: p.metadata.name, namespace: (p.metadata as any).namespace ?? APP_NAMESPACE, spec: p.spec ?? {} }));
  }

  private labelsOfNamespace(namespace: string): Record<string, string> {
    return { 'kubernetes.io/metadata.name': namespace, ...(this.namespaceLabels[namespace] ?? {}) };
  }

  private static types(spec: any): string[] {
    return spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
  }

  /** The policies that select this pod for one direction; none means the pod is not isolated that way. */
  selecting(pod: Endpoint, direction: 'Ingress' | 'Egress') {
    if (pod.namespace === undefined) return [];
    return this.policies.filter(
      (p) => p.namespace === pod.namespace && PolicyEvaluator.types(p.spec).includes(direction) && selectorMatches(p.spec.podSelector ?? {}, pod.labels),
    );
  }

  private peerMatches(peer: PolicyPeer, other: Endpoint, policyNamespace: string): boolean {
    if (peer.ipBlock) {
      return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(other.ip, cidr));
    }
    if (other.namespace === undefined) return false;
    const namespaceOk = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, this.labelsOfNamespace(other.namespace))
      : other.namespace === policyNamespace;
    return namespaceOk && selectorMatches(peer.podSelector, other.labels);
  }

  private static portMatches(ports: PolicyPort[] | undefined, destination: Endpoint, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'number') return p.endPort === undefined ? port === p.port : port >= p.port && port <= p.endPort;
      return destination.ports.some((c) => c.name === p.port && c.containerPort === port && (c.protocol ?? 'TCP') === protocol);
    });
  }

  private allowedBy(direction: 'Ingress' | 'Egress', subject: Endpoint, peer: Endpoint, destination: Endpoint, port: number, protocol: string) {
    const selecting = this.selecting(subject, direction);
    if (selecting.length === 0) return true;
    return selecting.some((policy) =>
      ((direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? []).some((rule: PolicyRule) => {
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        const peerOk = !peers || peers.length === 0 || peers.some((p) => this.peerMatches(p, peer, policy.namespace));
        return peerOk && PolicyEvaluator.portMatches(rule.ports, destination, port, protocol);
      }),
    );
  }

  /** Whether a connection from `source` to `destination`'s port gets through. */
  allows(source: Endpoint, destination: Endpoint, port: number, protocol = 'TCP'): boolean {
    if (source === destination) return true;
    return this.allowedBy('Egress', source, destination, destination, port, protocol) && this.allowedBy('Ingress', destination, source, destination, port, protocol);
  }
}

/** The app's pods as the manifests define them (the client's included: client.yaml), one of each workload. */
export function appPods(manifests: Manifests): Endpoint[] {
  return manifests.workloads.map((workload, i) => {
    const labels = (workload.template.metadata?.labels ?? {}) as Record<string, string>;
    return {
      name: labels.app ?? workload.name,
      namespace: APP_NAMESPACE,
      labels,
      ip: `10.244.0.${10 + i}`,
      ports: (workload.container.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol })),
    };
  });
}

/**
 * Endpoints that are not the app: a debugging pod beside it, pods of another namespace that copy a label
 * of ours (a publisher's, and the client's, which may read the bus and ask moderation), and an address
 * outside the cluster.
 */
export const STRANGERS: Endpoint[] = [
  { name: 'debug-pod-in-namespace', namespace: APP_NAMESPACE, labels: { run: 'debug' }, ip: '10.244.1.5', ports: [] },
  { name: 'pod-labelled-posts-in-other-namespace', namespace: 'elsewhere', labels: { app: 'posts' }, ip: '10.244.2.7', ports: [] },
  { name: 'pod-labelled-client-in-other-namespace', namespace: 'elsewhere', labels: { app: 'client' }, ip: '10.244.2.8', ports: [] },
  { name: 'outside-the-cluster', labels: {}, ip: '203.0.113.10', ports: [] },
];

/**
 * Every connection the policies allow, as "source -> destination:port", between every endpoint and every
 * port of the app's pods (each pod's own ports and every other app port, so an opening on a port a pod
 * does not use shows too). A pod's connections to itself are left out (always allowed).
 */
export function allowedFlows(manifests: Manifests): string[] {
  const evaluator = new PolicyEvaluator(manifests.networkPolicies);
  const pods = appPods(manifests);
  const ports = [...new Set(pods.flatMap((p) => p.ports.map((port) => port.containerPort)))].sort((a, b) => a - b);
  const flows: string[] = [];
  for (const destination of pods) {
    for (const source of [...pods, ...STRANGERS]) {
      if (source === destination) continue;
      for (const port of ports) {
        if (evaluator.allows(source, destination, port)) flows.push(`${source.name} -> ${destination.name}:${port}`);
      }
    }
  }
  return flows.sort();
}

/** The sources allowed to reach a pod (by app label) on a port. */
export function sourcesOf(manifests: Manifests, app: string, port: number): string[] {
  const evaluator = new PolicyEvaluator(manifests.networkPolicies);
  const pods = appPods(manifests);
  const destination = pods.find((p) => p.labels.app === app);
  if (!destination) throw new Error(`no pod with app: ${app}`);
  return [...pods, ...STRANGERS].filter((s) => s !== destination && evaluator.allows(s, destination, port)).map((s) => s.name).sort();
}

/** The pod and container port a Service sends a connection on `port` to, as kube-proxy would. */
export function serviceBackend(manifests: Manifests, pods: Endpoint[], serviceName: string, port: number) {
  const service = manifests.services.find((s) => s.metadata.name === serviceName);
  const servicePort = service?.spec?.ports?.find((p) => p.port === port);
  if (!service || !servicePort) return undefined;
  const pod = pods.find((p) => selectorMatches({ matchLabels: service.spec?.selector ?? {} }, p.labels) && Object.keys(service.spec?.selector ?? {}).length > 0);
  const target = servicePort.targetPort ?? servicePort.port;
  const containerPort = pod?.ports.find((p) => p.name === target || p.containerPort === target)?.containerPort;
  return pod && containerPort !== undefined ? { pod, containerPort } : undefined;
}

/**
 * Every way the policies disagree with the app: flows allowed that the expected list does not have, or
 * denied that it has; a URL in a workload's env (the bus's SUBSCRIBERS, the services' EVENT_BUS_URL and NATS_URL,
 * the client's POSTS_URL, COMMENTS_URL, QUERY_URL, EVENT_BUS_URL and MODERATION_URL) whose connection the policies would drop; an app pod that no policy isolates; a NodePort Service whose pods
 * cannot be reached from outside the cluster.
 */
export function findNetworkPolicyProblems(manifests: Manifests, expectedFlows: string[]): string[] {
  const problems: string[] = [];
  const allowed = allowedFlows(manifests);
  const expected = new Set(expectedFlows);
  for (const flow of allowed) if (!expected.has(flow)) problems.push(`allowed, but not an expected flow: ${flow}`);
  for (const flow of expectedFlows) if (!allowed.includes(flow)) problems.push(`expected, but denied: ${flow}`);

  const evaluator = new PolicyEvaluator(manifests.networkPolicies);
  const pods = appPods(manifests);
  for (const workload of manifests.workloads) {
    const source = pods.find((p) => p.labels.app === workload.template.metadata?.labels?.app)!;
    for (const variable of workload.container.env ?? []) {
      for (const { url, port } of urlsIn(variable.value ?? '')) {
        const backend = serviceBackend(manifests, pods, url.hostname, port);
        if (backend && !evaluator.allows(source, backend.pod, backend.containerPort)) {
          problems.push(`${workload.name}: ${variable.name} reaches ${url.hostname}:${port}, but the policies drop ${source.name} -> ${backend.pod.name}:${backend.containerPort}`);
        }
      }
    }
  }
  for (const pod of pods) {
    if (evaluator.selecting(pod, 'Ingress').length === 0) problems.push(`${pod.name}: no NetworkPolicy isolates it, so anything may connect to it`);
  }
  const outside = STRANGERS.find((s) => s.namespace === undefined)!;
  for (const service of manifests.services.filter((s) => s.spec?.type === 'NodePort')) {
    for (const port of service.spec?.ports ?? []) {
      const backend = serviceBackend(manifests, pods, service.metadata.name, port.port);
      if (backend && !evaluator.allows(outside, backend.pod, backend.containerPort)) {
        problems.push(`Service ${service.metadata.name}: a NodePort, but the policies drop connections from outside to ${backend.pod.name}:${backend.containerPort}`);
      }
    }
  }
  return problems;
}
