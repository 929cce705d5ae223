import { INGRESS_DIR, classify, loadManifests, readDocuments, type ManifestDocument, type Manifests } from '../support/manifests';
import {
  APP_NAMESPACE,
  PolicyEvaluator,
  STRANGERS,
  allowedFlows,
  appPods,
  findNetworkPolicyProblems,
  serviceBackend,
  sourcesOf,
  type Endpoint,
} from '../support/networkPolicies';

const manifests = loadManifests();

// The flows the architecture allows (docs/KUBERNETES.md, "Network policies"); everything else must be dropped.
const SERVICES = ['posts', 'comments', 'moderation', 'query'];
const EVERYONE = [...appPods(manifests).map((p) => p.name), ...STRANGERS.map((s) => s.name)];
const fromEveryone = (to: string, port: number) => EVERYONE.filter((s) => s !== to).map((s) => `${s} -> ${to}:${port}`);
const EXPECTED_FLOWS = [
  ...SERVICES.map((s) => `${s} -> event-bus:4005`),
  // The flow page: the client reads the bus's log and subscribers (its credential may publish nothing).
  'client -> event-bus:4005',
  ...fromEveryone('posts', 4000),
  ...fromEveryone('client', 3000),
  'event-bus -> comments:4001',
  'client -> comments:4001',
  'event-bus -> query:4002',
  'client -> query:4002',
  'event-bus -> moderation:4003',
  // The flow page: whether moderation is ready (its /readyz).
  'client -> moderation:4003',
].sort();

const policy = (name: string, spec: object, namespace?: string): ManifestDocument => ({
  file: 'test.yaml',
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, ...(namespace ? { namespace } : {}) } as ManifestDocument['metadata'],
  spec,
});

describe('the policy evaluator, on the rules of networking.k8s.io/v1', () => {
  const pod = (name: string, labels: Record<string, string>, namespace = APP_NAMESPACE, ip = '10.244.0.1'): Endpoint => ({
    name,
    namespace,
    labels,
    ip,
    ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }],
  });
  const web = pod('web', { app: 'web' }, APP_NAMESPACE, '10.244.0.1');
  const api = pod('api', { app: 'api', tier: 'back' }, APP_NAMESPACE, '10.244.0.2');
  const db = pod('db', { app: 'db', tier: 'back' }, APP_NAMESPACE, '10.244.0.3');
  const foreignWeb = pod('foreign-web', { app: 'web' }, 'other', '10.244.9.1');
  const outside: Endpoint = { name: 'outside', labels: {}, ip: '198.51.100.4', ports: [] };
  const evaluate = (...policies: ManifestDocument[]) => new PolicyEvaluator(policies, { other: { team: 'other' } });

  it('when no policy selects a pod, then everything reaches it', () => {
    expect(evaluate().allows(outside, api, 8080)).toBe(true);
    expect(evaluate(policy('only-db', { podSelector: { matchLabels: { app: 'db' } } })).allows(web, api, 8080)).toBe(true);
  });

  it('when a policy selects a pod and allows nothing, then nothing reaches it; pods of other namespaces are not selected', () => {
    const denyAll = evaluate(policy('deny', { podSelector: {}, policyTypes: ['Ingress'] }));
    expect(denyAll.allows(web, api, 8080)).toBe(false);
    expect(denyAll.allows(outside, web, 8080)).toBe(false);
    expect(denyAll.allows(web, foreignWeb, 8080)).toBe(true);
    expect(denyAll.allows(api, api, 8080)).toBe(true);
  });

  it('when a rule has no from and no ports, then it allows everything; rules of several policies add up', () => {
    expect(evaluate(policy('all', { podSelector: {}, ingress: [{}] })).allows(outside, api, 9090)).toBe(true);
    const two = evaluate(
      policy('deny', { podSelector: {}, policyTypes: ['Ingress'] }),
      policy('web-to-api', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
    );
    expect(two.allows(web, api, 8080)).toBe(true);
    expect(two.allows(db, api, 8080)).toBe(false);
  });

  it('when a peer has only a podSelector, then it means pods of the policy namespace only', () => {
    const evaluator = evaluate(policy('web-only', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }));
    expect(evaluator.allows(web, api, 8080)).toBe(true);
    expect(evaluator.allows(foreignWeb, api, 8080)).toBe(false);
    expect(evaluator.allows(outside, api, 8080)).toBe(false);
  });

  it('when namespaceSelector and podSelector are in one peer, then both must match; in two peers, either', () => {
    const and = evaluate(policy('and', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'other' } }, podSelector: { matchLabels: { app: 'web' } } }] }] }));
    expect(and.allows(foreignWeb, api, 8080)).toBe(true);
    expect(and.allows(web, api, 8080)).toBe(false);
    const or = evaluate(policy('or', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'other' } } }, { podSelector: { matchLabels: { app: 'web' } } }] }] }));
    expect(or.allows(foreignWeb, api, 8080)).toBe(true);
    expect(or.allows(web, api, 8080)).toBe(true);
    expect(or.allows(db, api, 8080)).toBe(false);
    const anyNamespace = evaluate(policy('any', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] }));
    expect(anyNamespace.allows(foreignWeb, api, 8080)).toBe(true);
    expect(anyNamespace.allows(outside, api, 8080)).toBe(false);
  });

  it('when ports are named, ranged or of another protocol, then they match as the API defines', () => {
    const named = evaluate(policy('named', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] }));
    expect(named.allows(web, api, 8080)).toBe(true);
    expect(named.allows(web, api, 9090)).toBe(false);
    const range = evaluate(policy('range', { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }] }));
    expect(range.allows(web, api, 8080)).toBe(true);
    expect(range.allows(web, api, 9090)).toBe(false);
    const udp = evaluate(policy('udp', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP', port: 8080 }] }] }));
    expect(udp.allows(web, api, 8080)).toBe(false);
    expect(udp.allows(web, api, 8080, 'UDP')).toBe(true);
  });

  it('when a peer is an ipBlock, then addresses in it, minus its exceptions, match', () => {
    const block = evaluate(policy('block', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '198.51.100.0/24', except: ['198.51.100.4/32'] } }] }] }));
    expect(block.allows(outside, api, 8080)).toBe(false);
    expect(block.allows({ ...outside, ip: '198.51.100.5' }, api, 8080)).toBe(true);
    expect(block.allows({ ...outside, ip: '198.51.101.5' }, api, 8080)).toBe(false);
    expect(evaluate(policy('all', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })).allows(outside, api, 8080)).toBe(true);
  });

  it("when a policy isolates a pod for egress, then the source's egress must allow the connection too", () => {
    const egressOnly = evaluate(policy('no-egress', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'] }));
    expect(egressOnly.allows(web, api, 8080)).toBe(false);
    expect(egressOnly.allows(api, web, 8080)).toBe(true);
    const implied = evaluate(policy('implied', { podSelector: { matchLabels: { app: 'web' } }, egress: [{ to: [{ podSelector: { matchLabels: { tier: 'back' } } }] }] }));
    expect(implied.allows(web, db, 8080)).toBe(true);
    expect(implied.allows(web, foreignWeb, 8080)).toBe(false);
    // policyTypes defaults to Ingress and Egress when egress rules are given: web is isolated for ingress too.
    expect(implied.allows(api, web, 8080)).toBe(false);
  });

  it('when selectors use expressions, then In, NotIn, Exists and DoesNotExist work on the labels', () => {
    const expressions = evaluate(
      policy('expr', {
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }, { key: 'tier', operator: 'DoesNotExist' }] } }] }],
      }),
    );
    expect(expressions.allows(web, api, 8080)).toBe(true);
    expect(expressions.allows(db, api, 8080)).toBe(false);
    expect(expressions.allows(api, db, 8080)).toBe(false);
    expect(expressions.allows(db, web, 8080)).toBe(true);
    const notIn = evaluate(policy('not-in', { podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, policyTypes: ['Ingress'] }));
    expect(notIn.allows(db, web, 8080)).toBe(true);
    expect(notIn.allows(web, db, 8080)).toBe(false);
  });
});

describe('the NetworkPolicies in infra/k8s', () => {
  it('allows exactly the flows of the architecture, and no other between every endpoint and every app port', () => {
    expect(allowedFlows(manifests)).toEqual(EXPECTED_FLOWS);
  });

  it('agrees with the wiring: every URL in env is reachable, every pod is isolated, every NodePort answers from outside', () => {
    expect(findNetworkPolicyProblems(manifests, EXPECTED_FLOWS)).toEqual([]);
  });

  it('lets only the bus and the client (the flow page asks whether it is ready) reach moderation', () => {
    expect(sourcesOf(manifests, 'moderation', 4003)).toEqual(['client', 'event-bus']);
  });

  it('lets only posts, comments, moderation, query and the client (reading, for the flow page) reach the bus', () => {
    expect(sourcesOf(manifests, 'event-bus', 4005)).toEqual(['client', 'comments', 'moderation', 'posts', 'query']);
  });

  it('lets the client reach the bus and moderation only on their own ports, and nothing from outside reach either', () => {
    const flows = allowedFlows(manifests);
    expect(flows.filter((f) => /^client -> (event-bus|moderation):/.test(f))).toEqual(['client -> event-bus:4005', 'client -> moderation:4003']);
    expect(flows.filter((f) => /-> (event-bus|moderation):/.test(f) && !/^(client|comments|event-bus|moderation|posts|query) /.test(f))).toEqual([]);
  });

  it('lets only the bus and the client reach comments and query', () => {
    expect(sourcesOf(manifests, 'comments', 4001)).toEqual(['client', 'event-bus']);
    expect(sourcesOf(manifests, 'query', 4002)).toEqual(['client', 'event-bus']);
  });

  it('lets connections from outside the namespace reach only the posts and client NodePorts, even from a pod that copies our labels', () => {
    const fromOutside = allowedFlows(manifests).filter((f) => /^(outside-the-cluster|pod-labelled-(posts|client)-in-other-namespace) /.test(f));
    expect(fromOutside.map((f) => f.split(' -> ')[1]).sort()).toEqual(['client:3000', 'client:3000', 'client:3000', 'posts:4000', 'posts:4000', 'posts:4000']);
  });

  it('isolates every workload of the manifests, the client included, with the default deny', () => {
    const evaluator = new PolicyEvaluator(manifests.networkPolicies.filter((p) => p.metadata.name === 'default-deny-ingress'));
    for (const pod of appPods(manifests)) expect([pod.name, evaluator.selecting(pod, 'Ingress').length]).toEqual([pod.name, 1]);
    expect(appPods(manifests).map((p) => p.name).sort()).toEqual(['client', 'comments', 'event-bus', 'moderation', 'posts', 'query']);
  });
});

describe('the optional routes of infra/ingress, with their NetworkPolicy', () => {
  const routes = readDocuments(INGRESS_DIR);
  const gatewayName = routes.find((r) => r.kind === 'Gateway')!.metadata.name;
  const controller: Endpoint = { name: 'ingress-nginx-controller', namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' }, ip: '10.244.3.3', ports: [] };
  const gatewayProxy: Endpoint = { name: 'gateway-proxy', namespace: APP_NAMESPACE, labels: { 'gateway.networking.k8s.io/gateway-name': gatewayName }, ip: '10.244.0.50', ports: [] };
  const backends = (kind: string) =>
    routes
      .filter((r) => r.kind === kind)
      .flatMap((r) =>
        kind === 'Ingress'
          ? r.spec.rules.flatMap((rule: any) => rule.http.paths.map((p: any) => [p.backend.service.name, p.backend.service.port.number]))
          : r.spec.rules.flatMap((rule: any) => rule.backendRefs.map((ref: any) => [ref.name, ref.port])),
      ) as [string, number][];
  const reaches = (policies: ManifestDocument[], from: Endpoint, [service, port]: [string, number]) => {
    const backend = serviceBackend(manifests, appPods(manifests), service, port)!;
    return new PolicyEvaluator(policies).allows(from, backend.pod, backend.containerPort);
  };
  const withRoutes = [...manifests.networkPolicies, ...routes.filter((r) => r.kind === 'NetworkPolicy')];

  it("when applied, then ingress-nginx reaches every Ingress backend and the Gateway's proxy every HTTPRoute backend", () => {
    expect(backends('Ingress').map(([s]) => s).sort()).toEqual(['comments-srv', 'posts-clusterip-srv', 'query-srv']);
    for (const backend of backends('Ingress')) expect([backend, reaches(withRoutes, controller, backend)]).toEqual([backend, true]);
    for (const backend of backends('HTTPRoute')) expect([backend, reaches(withRoutes, gatewayProxy, backend)]).toEqual([backend, true]);
  });

  it('when applied, then neither reaches the bus or moderation, nor another port of comments and query', () => {
    const pods = appPods(manifests);
    const evaluator = new PolicyEvaluator(withRoutes);
    for (const from of [controller, gatewayProxy]) {
      for (const [app, port] of [['event-bus', 4005], ['moderation', 4003], ['comments', 4002], ['query', 4001]] as const) {
        expect([from.name, app, port, evaluator.allows(from, pods.find((p) => p.name === app)!, port)]).toEqual([from.name, app, port, false]);
      }
    }
  });

  it('when not applied, then the routes to comments and query are closed (which is why the file is there)', () => {
    expect(reaches(manifests.networkPolicies, controller, ['comments-srv', 4001])).toBe(false);
    expect(reaches(manifests.networkPolicies, gatewayProxy, ['query-srv', 4002])).toBe(false);
  });
});

describe('a broken policy set', () => {
  const withPolicies = (change: (policies: ManifestDocument[], m: Manifests) => void) => {
    const copy = classify(structuredClone(manifests.documents));
    change(copy.networkPolicies, copy);
    return findNetworkPolicyProblems(copy, EXPECTED_FLOWS).join('\n');
  };
  const named = (policies: ManifestDocument[], name: string) => policies.find((p) => p.metadata.name === name)!;

  it.each([
    [
      'an extra policy that lets anything reach the bus',
      (p: ManifestDocument[]) => p.push(policy('open-bus', { podSelector: { matchLabels: { app: 'event-bus' } }, ingress: [{}] })),
      /allowed, but not an expected flow: debug-pod-in-namespace -> event-bus:4005[\s\S]*outside-the-cluster -> event-bus:4005/,
    ],
    [
      "the bus rule's sources removed",
      (p: ManifestDocument[]) => delete named(p, 'event-bus-ingress').spec.ingress[0].from,
      /allowed, but not an expected flow: debug-pod-in-namespace -> event-bus:4005[\s\S]*allowed, but not an expected flow: pod-labelled-posts-in-other-namespace -> event-bus:4005/,
    ],
    [
      'the client left out of the bus rule',
      (p: ManifestDocument[]) => named(p, 'event-bus-ingress').spec.ingress[0].from.pop(),
      /expected, but denied: client -> event-bus:4005[\s\S]*client-depl: EVENT_BUS_URL reaches event-bus-srv:4005, but the policies drop client -> event-bus:4005/,
    ],
    [
      'the client left out of moderation\'s rule',
      (p: ManifestDocument[]) => named(p, 'moderation-ingress').spec.ingress[0].from.pop(),
      /expected, but denied: client -> moderation:4003[\s\S]*client-depl: MODERATION_URL reaches moderation-srv:4003, but the policies drop client -> moderation:4003/,
    ],
    [
      'the client let into the bus from another namespace too',
      (p: ManifestDocument[]) => named(p, 'event-bus-ingress').spec.ingress[0].from.push({ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' } } }),
      /allowed, but not an expected flow: pod-labelled-client-in-other-namespace -> event-bus:4005/,
    ],
    [
      'the client let into moderation on every port',
      (p: ManifestDocument[]) => named(p, 'moderation-ingress').spec.ingress.push({ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }),
      /allowed, but not an expected flow: client -> moderation:3000[\s\S]*allowed, but not an expected flow: client -> moderation:4005/,
    ],
    [
      'a namespaceSelector that opens moderation to every namespace',
      (p: ManifestDocument[]) => named(p, 'moderation-ingress').spec.ingress[0].from.push({ namespaceSelector: {} }),
      /allowed, but not an expected flow: pod-labelled-posts-in-other-namespace -> moderation:4003/,
    ],
    [
      'an ipBlock that opens query to the world',
      (p: ManifestDocument[]) => named(p, 'query-ingress').spec.ingress[0].from.push({ ipBlock: { cidr: '0.0.0.0/0' } }),
      /allowed, but not an expected flow: outside-the-cluster -> query:4002/,
    ],
    [
      "a misspelled bus label in moderation's policy",
      (p: ManifestDocument[]) => (named(p, 'moderation-ingress').spec.ingress[0].from[0].podSelector.matchLabels.app = 'eventbus'),
      /expected, but denied: event-bus -> moderation:4003[\s\S]*event-bus: SUBSCRIBERS reaches moderation-srv:4003, but the policies drop/,
    ],
    [
      "the wrong port in comments' policy",
      (p: ManifestDocument[]) => (named(p, 'comments-ingress').spec.ingress[0].ports[0].port = 4010),
      /expected, but denied: client -> comments:4001/,
    ],
    [
      "query's policy removed (the default deny still isolates it)",
      (p: ManifestDocument[]) => p.splice(p.indexOf(named(p, 'query-ingress')), 1),
      /expected, but denied: event-bus -> query:4002/,
    ],
    [
      'the default deny and moderation\'s policy removed',
      (p: ManifestDocument[]) => {
        p.splice(p.indexOf(named(p, 'default-deny-ingress')), 1);
        p.splice(p.indexOf(named(p, 'moderation-ingress')), 1);
      },
      /moderation: no NetworkPolicy isolates it/,
    ],
    [
      'an egress policy that keeps the bus from delivering',
      (p: ManifestDocument[]) => p.push(policy('bus-egress', { podSelector: { matchLabels: { app: 'event-bus' } }, policyTypes: ['Egress'] })),
      /expected, but denied: event-bus -> comments:4001/,
    ],
    [
      'posts open only to the bus and the client (the NodePort would stop answering)',
      (p: ManifestDocument[]) => (named(p, 'posts-ingress').spec.ingress[0].from = [{ podSelector: { matchLabels: { app: 'event-bus' } } }, { podSelector: { matchLabels: { app: 'client' } } }]),
      /Service posts-srv: a NodePort, but the policies drop connections from outside to posts:4000/,
    ],
  ])('when the manifests have %s, then the check reports it', (_name, change, message) => {
    expect(withPolicies(change)).toMatch(message);
  });

  it("when the bus's Service moves to a port the policy does not open, then the services' EVENT_BUS_URL is reported", () => {
    const problems = withPolicies((_p, m) => {
      const bus = m.workloads.find((w) => w.name === 'event-bus')!;
      bus.container.ports![0]!.containerPort = 4006;
    });
    expect(problems).toMatch(/posts-depl: EVENT_BUS_URL reaches event-bus-srv:4005, but the policies drop posts -> event-bus:4006/);
  });
});
