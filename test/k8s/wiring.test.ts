import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configSchema as busConfig } from '../../event-bus/src/config';
import { configSchema as postsConfig } from '../../posts/src/config';
import { configSchema as commentsConfig } from '../../comments/src/config';
import { configSchema as moderationConfig } from '../../moderation/src/config';
import { configSchema as queryConfig } from '../../query/src/config';
import { configSchema as clientConfig } from '../../client/src/config';
import { readDockerfile } from '../support/dockerfiles';
import { READ_ONLY_CALLERS } from '../../contracts/src/owners';
import { BUS_CALLERS, URL_TARGETS, WITHOUT_BUS_TOKEN, callerOf, credentialRefOf, findRouteProblems, findWiringProblems } from '../support/k8sWiring';
import { INGRESS_DIR, ROOT, classify, expandVariables, loadManifests, readDocuments, resolveTargetPort, resolvedEnvOf, secretValue, serviceOfImage } from '../support/manifests';

const manifests = loadManifests();
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

/** Loads the manifests again and lets a test break one thing in them. */
function brokenManifests(change: (m: ReturnType<typeof loadManifests>) => void) {
  const copy = classify(structuredClone(manifests.documents));
  change(copy);
  return findWiringProblems(copy);
}

const find = (m: ReturnType<typeof loadManifests>, name: string) => m.workloads.find((w) => w.name === name)!;
const variable = (m: ReturnType<typeof loadManifests>, workload: string, name: string) => find(m, workload).container.env!.find((e) => e.name === name)!;
const busToken = (m: ReturnType<typeof loadManifests>, name: string) => variable(m, name, 'BUS_TOKEN');
const credentials = (m: ReturnType<typeof loadManifests>) => variable(m, 'event-bus', 'BUS_CREDENTIALS');
const secret = (m: ReturnType<typeof loadManifests>, name: string) => m.secrets.find((s) => s.metadata.name === name)!;
/** Takes one variable out of a workload's env, and answers it. */
const takeOut = (m: ReturnType<typeof loadManifests>, workload: string, name: string) => {
  const env = find(m, workload).container.env!;
  return env.splice(env.indexOf(variable(m, workload, name)), 1)[0]!;
};
const tokenOf = (caller: string) => secretValue(manifests, credentialRefOf(caller).name, 'token')!;
const service = (m: ReturnType<typeof loadManifests>, name: string) => m.services.find((s) => s.metadata.name === name)!;

describe('the objects the architecture names', () => {
  it('has every workload and Service, with the kinds it names', () => {
    expect(manifests.workloads.map((w) => `${w.kind}/${w.name}`).sort()).toEqual([
      'Deployment/client-depl',
      'Deployment/comments-depl',
      'Deployment/moderation-depl',
      'Deployment/posts-depl',
      'Deployment/query-depl',
      'StatefulSet/event-bus',
    ]);
    expect(manifests.services.map((s) => `${s.spec?.type}/${s.metadata.name}`).sort()).toEqual([
      'ClusterIP/client-srv',
      'ClusterIP/comments-srv',
      'ClusterIP/event-bus-srv',
      'ClusterIP/moderation-srv',
      'ClusterIP/posts-clusterip-srv',
      'ClusterIP/query-srv',
      'NodePort/client-nodeport-srv',
      'NodePort/posts-srv',
    ]);
  });

  it('has a credential Secret for each caller of the bus, and the NetworkPolicies', () => {
    expect(manifests.secrets.map((s) => `${s.type}/${s.metadata.name}`)).toEqual(
      ['posts', 'comments', 'moderation', 'query', 'client', 'operator'].map((caller) => `Opaque/${caller}-bus-credential`),
    );
    expect(manifests.networkPolicies.map((p) => p.metadata.name).sort()).toEqual([
      'client-ingress',
      'comments-ingress',
      'default-deny-ingress',
      'event-bus-ingress',
      'moderation-ingress',
      'posts-ingress',
      'query-ingress',
    ]);
  });

  it('keeps the bus log on a PersistentVolumeClaim', () => {
    const bus = find(manifests, 'event-bus');
    expect(bus.document.spec.volumeClaimTemplates).toEqual([
      expect.objectContaining({ metadata: { name: 'data' }, spec: expect.objectContaining({ accessModes: ['ReadWriteOnce'] }) }),
    ]);
    expect(bus.container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });
});

describe('wiring', () => {
  it('when the manifests are read, then no Service, port, URL, probe, security setting or image is wired wrong', () => {
    expect(findWiringProblems(manifests)).toEqual([]);
  });

  it.each([
    ['a Service whose selector matches nothing', (m: any) => (service(m, 'comments-srv').spec!.selector = { app: 'coments' }), /comments-srv: selector matches 0 workloads/],
    ['a Service targeting a port the container lacks', (m: any) => (service(m, 'query-srv').spec!.ports![0]!.targetPort = 4020), /query-srv: targetPort 4020 is not a port/],
    ['a PORT env that differs from the containerPort', (m: any) => (find(m, 'posts-depl').container.env!.find((e) => e.name === 'PORT')!.value = '4001'), /posts-depl: PORT env \(4001\)/],
    ['a bus URL with a misspelled Service', (m: any) => (find(m, 'comments-depl').container.env!.find((e) => e.name === 'EVENT_BUS_URL')!.value = 'http://eventbus-srv:4005'), /points at eventbus-srv, which is not a Service/],
    ['the client\'s bus URL on another Service', (m: any) => (variable(m, 'client-depl', 'EVENT_BUS_URL').value = 'http://query-srv:4002'), /client-depl: EVENT_BUS_URL points at query-srv, which leads to query-depl \(app query\), not to app event-bus/],
    ['the client\'s moderation URL on the bus', (m: any) => (variable(m, 'client-depl', 'MODERATION_URL').value = 'http://event-bus-srv:4005'), /client-depl: MODERATION_URL points at event-bus-srv, which leads to event-bus \(app event-bus\), not to app moderation/],
    ['the client\'s moderation URL on a port moderation\'s Service lacks', (m: any) => (variable(m, 'client-depl', 'MODERATION_URL').value = 'http://moderation-srv:4005'), /client-depl: MODERATION_URL uses port 4005, not a port of Service moderation-srv/],
    ['a subscriber URL with the wrong port', (m: any) => {
      const subscribers = find(m, 'event-bus').container.env!.find((e) => e.name === 'SUBSCRIBERS')!;
      subscribers.value = subscribers.value!.replace('query-srv:4002', 'query-srv:4003');
    }, /SUBSCRIBERS uses port 4003, not a port of Service query-srv/],
    ['a NodePort out of range', (m: any) => (service(m, 'posts-srv').spec!.ports![0]!.nodePort = 8080), /nodePort 8080 is not in 30000-32767/],
    ['the liveness probe on the readiness path', (m: any) => (find(m, 'query-depl').container.livenessProbe!.httpGet!.path = '/readyz'), /query-depl: livenessProbe path is \/readyz/],
    ['a writable root filesystem', (m: any) => (find(m, 'moderation-depl').container.securityContext!.readOnlyRootFilesystem = false), /moderation-depl: readOnlyRootFilesystem/],
    ['a root user', (m: any) => (find(m, 'posts-depl').template.spec!.securityContext!.runAsUser = 0), /posts-depl: pod must run as uid and gid above 10000/],
    ['no memory limit', (m: any) => delete find(m, 'query-depl').container.resources!.limits!.memory, /query-depl: resources.limits must set cpu and memory/],
    ['the log outside its volume', (m: any) => (find(m, 'event-bus').container.env!.find((e) => e.name === 'DATA_DIR')!.value = '/var/lib/bus'), /DATA_DIR \/var\/lib\/bus is not on a mounted volume/],
    ['an image with no Dockerfile', (m: any) => (find(m, 'posts-depl').container.image = `blog/post:${VERSION}`), /no post\/Dockerfile/],
    ['a latest tag', (m: any) => (find(m, 'posts-depl').container.image = 'blog/posts:latest'), /image tag latest is not the project version/],
    ['a pull policy that always pulls', (m: any) => (find(m, 'posts-depl').container.imagePullPolicy = 'Always'), /imagePullPolicy must be IfNotPresent/],
  ])('when a manifest has %s, then the check reports it', (_name, change, message) => {
    const problems = brokenManifests(change);
    expect(problems.join('\n')).toMatch(message);
  });

  it.each([
    // A service and its own credential.
    ['a service\'s token written into its manifest', (m: any) => {
      const token = busToken(m, 'query-depl');
      delete token.valueFrom;
      token.value = 'x'.repeat(32);
    }, /query-depl: BUS_TOKEN must come from secretKeyRef query-bus-credential\/token, not a literal value/],
    ['no credential for a service', (m: any) => takeOut(m, 'moderation-depl', 'BUS_TOKEN'), /moderation-depl: BUS_TOKEN is set 0 times, not once/],
    ['a service given another service\'s credential', (m: any) => (busToken(m, 'comments-depl').valueFrom!.secretKeyRef!.name = 'posts-bus-credential'), /comments-depl: BUS_TOKEN comes from posts-bus-credential\/token, not its own credential comments-bus-credential\/token/],
    ['a service given the operator\'s credential', (m: any) => (busToken(m, 'query-depl').valueFrom!.secretKeyRef!.name = 'operator-bus-credential'), /query-depl: BUS_TOKEN comes from operator-bus-credential\/token, not its own credential/],
    ['a service holding a second caller\'s credential beside its own', (m: any) => {
      find(m, 'posts-depl').container.env!.push({ name: 'SPARE_TOKEN', valueFrom: { secretKeyRef: { ...credentialRefOf('moderation') } } });
    }, /posts-depl: env SPARE_TOKEN reads moderation-bus-credential, another caller's credential; a service holds only its own \(posts-bus-credential\)/],
    ['a service given every credential', (m: any) => find(m, 'posts-depl').container.env!.push({ ...credentials(m) }), /posts-depl: is given BUS_CREDENTIALS, every caller's tokens; only the bus holds them/],
    ['a credential from a misspelled Secret', (m: any) => (busToken(m, 'posts-depl').valueFrom!.secretKeyRef!.name = 'posts-bus-credentail'), /posts-depl: env BUS_TOKEN refers to Secret posts-bus-credentail, which is not in the manifests/],
    ['a credential from a key the Secret lacks', (m: any) => (busToken(m, 'comments-depl').valueFrom!.secretKeyRef!.key = 'value'), /comments-depl: env BUS_TOKEN refers to key value, which Secret comments-bus-credential does not have/],
    ['an optional credential', (m: any) => (busToken(m, 'posts-depl').valueFrom!.secretKeyRef!.optional = true), /posts-depl: BUS_TOKEN must not be optional/],
    ['a credential taken whole with envFrom', (m: any) => (find(m, 'query-depl').container.envFrom = [{ secretRef: { name: 'query-bus-credential' } }]), /query-depl: envFrom takes all of query-bus-credential/],
    ['a service without the bus\'s address', (m: any) => takeOut(m, 'comments-depl', 'EVENT_BUS_URL'), /comments-depl: holds comments's bus credential but has no EVENT_BUS_URL to use it with/],
    // The client holds its own read-only credential, and nothing more.
    ['no credential for the client', (m: any) => takeOut(m, 'client-depl', 'BUS_TOKEN'), /client-depl: BUS_TOKEN is set 0 times, not once/],
    ['the client holding another caller\'s credential', (m: any) => (busToken(m, 'client-depl').valueFrom!.secretKeyRef!.name = 'query-bus-credential'), /client-depl: BUS_TOKEN comes from query-bus-credential\/token, not its own credential client-bus-credential\/token/],
    ['the client holding the operator\'s credential, which may send dead letters back', (m: any) => (busToken(m, 'client-depl').valueFrom!.secretKeyRef!.name = 'operator-bus-credential'), /client-depl: BUS_TOKEN comes from operator-bus-credential\/token, not its own credential client-bus-credential\/token/],
    ['the client holding a publisher\'s credential under another name beside its own', (m: any) => {
      find(m, 'client-depl').container.env!.push({ name: 'API_KEY', valueFrom: { secretKeyRef: credentialRefOf('posts') } });
    }, /client-depl: env API_KEY reads posts-bus-credential, another caller's credential; a service holds only its own \(client-bus-credential\)/],
    ['the client given BUS_CREDENTIALS', (m: any) => find(m, 'client-depl').container.env!.push({ ...credentials(m) }), /client-depl: is given BUS_CREDENTIALS, every caller's tokens; only the bus holds them/],
    ['the client\'s token written into its manifest', (m: any) => {
      const token = busToken(m, 'client-depl');
      delete token.valueFrom;
      token.value = 'c'.repeat(32);
    }, /client-depl: BUS_TOKEN must come from secretKeyRef client-bus-credential\/token, not a literal value/],
    ['an optional credential for the client', (m: any) => (busToken(m, 'client-depl').valueFrom!.secretKeyRef!.optional = true), /client-depl: BUS_TOKEN must not be optional/],
    ['the client without the bus\'s address', (m: any) => takeOut(m, 'client-depl', 'EVENT_BUS_URL'), /client-depl: holds client's bus credential but has no EVENT_BUS_URL to use it with/],
    // The bus and every caller's credential.
    ['the bus given one token of its own', (m: any) => find(m, 'event-bus').container.env!.push({ name: 'BUS_TOKEN', valueFrom: { secretKeyRef: credentialRefOf('posts') } }), /event-bus: BUS_TOKEN is set, but the bus refuses it/],
    ['the bus without BUS_CREDENTIALS', (m: any) => takeOut(m, 'event-bus', 'BUS_CREDENTIALS'), /event-bus: BUS_CREDENTIALS is set 0 times, not once/],
    ['a caller left out of BUS_CREDENTIALS', (m: any) => (credentials(m).value = credentials(m).value!.replace(',operator:$(OPERATOR_BUS_TOKEN)', '')), /event-bus: BUS_CREDENTIALS leaves out operator/],
    ['the client left out of BUS_CREDENTIALS', (m: any) => (credentials(m).value = credentials(m).value!.replace(',client:$(CLIENT_BUS_TOKEN)', '')), /event-bus: BUS_CREDENTIALS leaves out client, whose calls the bus would then refuse/],
    ['the client\'s token variable from a publisher\'s Secret', (m: any) => (variable(m, 'event-bus', 'CLIENT_BUS_TOKEN').valueFrom!.secretKeyRef!.name = 'posts-bus-credential'), /event-bus: CLIENT_BUS_TOKEN \(client's token in BUS_CREDENTIALS\) comes from posts-bus-credential\/token, not client's credential client-bus-credential\/token/],
    ['a caller named twice', (m: any) => (credentials(m).value += ',posts:$(POSTS_BUS_TOKEN)'), /event-bus: BUS_CREDENTIALS names posts twice/],
    ['a name that is no caller', (m: any) => (credentials(m).value += ',event-bus:$(POSTS_BUS_TOKEN)'), /event-bus: BUS_CREDENTIALS names event-bus, which is not a caller of the bus/],
    ['a token written into BUS_CREDENTIALS', (m: any) => (credentials(m).value = credentials(m).value!.replace('$(QUERY_BUS_TOKEN)', 'y'.repeat(32))), /event-bus: BUS_CREDENTIALS gives query a token written into the manifest; it must be \$\(VAR\) of a variable from secretKeyRef query-bus-credential\/token/],
    ['a token variable defined after BUS_CREDENTIALS', (m: any) => find(m, 'event-bus').container.env!.push(takeOut(m, 'event-bus', 'POSTS_BUS_TOKEN')), /event-bus: BUS_CREDENTIALS uses \$\(POSTS_BUS_TOKEN\), which is defined after it, so the kubelet leaves it unexpanded/],
    ['a misspelled token variable', (m: any) => (credentials(m).value = credentials(m).value!.replace('$(COMMENTS_BUS_TOKEN)', '$(COMMENT_BUS_TOKEN)')), /event-bus: BUS_CREDENTIALS uses \$\(COMMENT_BUS_TOKEN\), which no variable before it defines/],
    ['a token variable from another caller\'s Secret', (m: any) => (variable(m, 'event-bus', 'MODERATION_BUS_TOKEN').valueFrom!.secretKeyRef!.name = 'comments-bus-credential'), /event-bus: MODERATION_BUS_TOKEN \(moderation's token in BUS_CREDENTIALS\) comes from comments-bus-credential\/token, not moderation's credential moderation-bus-credential\/token/],
    ['a token variable written into the manifest', (m: any) => {
      const token = variable(m, 'event-bus', 'OPERATOR_BUS_TOKEN');
      delete token.valueFrom;
      token.value = 'z'.repeat(32);
    }, /event-bus: OPERATOR_BUS_TOKEN \(operator's token in BUS_CREDENTIALS\) must come from secretKeyRef operator-bus-credential\/token, not a literal value/],
    ['an optional token variable', (m: any) => (variable(m, 'event-bus', 'QUERY_BUS_TOKEN').valueFrom!.secretKeyRef!.optional = true), /event-bus: QUERY_BUS_TOKEN \(query's token in BUS_CREDENTIALS\) must not be optional/],
    ['deliveries to one service with another\'s credential', (m: any) => {
      const subscribers = variable(m, 'event-bus', 'SUBSCRIBERS');
      subscribers.value = subscribers.value!.replace('comments=http://comments-srv', 'query=http://comments-srv');
    }, /event-bus: SUBSCRIBERS delivers to comments-srv \(comments-depl\) with query's credential, not comments'/],
    ['a subscriber without its name', (m: any) => {
      const subscribers = variable(m, 'event-bus', 'SUBSCRIBERS');
      subscribers.value = subscribers.value!.replace('query=', '');
    }, /event-bus: SUBSCRIBERS entry http:\/\/query-srv:4002\/events has no name=, so its deliveries carry no caller's credential/],
    ['the read-only client made a subscriber', (m: any) => (variable(m, 'event-bus', 'SUBSCRIBERS').value += ',client=http://client-srv:3000/events'), /event-bus: SUBSCRIBERS names client, a read-only caller: it takes no deliveries/],
    ['a subscriber with no credential', (m: any) => {
      credentials(m).value = credentials(m).value!.replace('moderation:$(MODERATION_BUS_TOKEN),', '');
    }, /event-bus: SUBSCRIBERS names moderation, which has no credential in BUS_CREDENTIALS/],
    // The Secrets.
    ['a caller without its Secret', (m: any) => m.secrets.splice(m.secrets.indexOf(secret(m, 'operator-bus-credential')), 1), /Secret operator-bus-credential: not in the manifests, so operator has no credential/],
    ['the client without its Secret', (m: any) => m.secrets.splice(m.secrets.indexOf(secret(m, 'client-bus-credential')), 1), /client-depl: env BUS_TOKEN refers to Secret client-bus-credential, which is not in the manifests[\s\S]*Secret client-bus-credential: not in the manifests, so client has no credential/],
    ['the client sharing a token with a publisher', (m: any) => (secret(m, 'client-bus-credential').stringData!.token = secret(m, 'posts-bus-credential').stringData!.token!), /Secret client-bus-credential: token holds the same value as posts-bus-credential\/token; each credential needs its own/],
    ['a Secret without its development label', (m: any) => delete secret(m, 'query-bus-credential').metadata.labels!['app.kubernetes.io/component'], /Secret query-bus-credential: its development value must carry the label app.kubernetes.io\/component: dev-secret/],
    ['a Secret whose value does not say it is for development', (m: any) => (secret(m, 'posts-bus-credential').stringData!.token = 'a-value-that-looks-real-0123456789'), /Secret posts-bus-credential: the value of token in the repository must say it is the local development one/],
    ['two callers with one token', (m: any) => (secret(m, 'moderation-bus-credential').stringData!.token = secret(m, 'comments-bus-credential').stringData!.token!), /Secret moderation-bus-credential: token holds the same value as comments-bus-credential\/token; each credential needs its own/],
    ['a token shorter than the bus takes', (m: any) => (secret(m, 'query-bus-credential').stringData!.token = 'short'), /Secret query-bus-credential: its token has 5 characters; the bus takes a token of 16 or more/],
  ])('when the credentials have %s, then the check reports it', (_name, change, message) => {
    const problems = brokenManifests(change);
    expect(problems.join('\n')).toMatch(message);
  });

  it('knows where every URL variable of the manifests must lead, so none escapes the check of its target', () => {
    const urlVariables = [...new Set(manifests.workloads.flatMap((w) => (w.container.env ?? []).filter((v) => /_URL$/.test(v.name)).map((v) => v.name)))].sort();
    expect(urlVariables).toEqual(Object.keys(URL_TARGETS).sort());
    expect(variable(manifests, 'client-depl', 'EVENT_BUS_URL').value).toBe('http://event-bus-srv:4005');
  });

  it('when two NodePort Services share a nodePort, then the check reports it', () => {
    const problems = brokenManifests((m) => {
      const copy = structuredClone(service(m, 'posts-srv'));
      copy.metadata.name = 'posts-srv-2';
      m.services.push(copy);
    });
    expect(problems.join('\n')).toMatch(/posts-srv-2: nodePort 30400 is also used by posts-srv/);
  });

  it('exposes posts through posts-srv as a NodePort', () => {
    const nodePort = service(manifests, 'posts-srv');
    expect(nodePort.spec).toMatchObject({ type: 'NodePort', selector: { app: 'posts' } });
  });

  it('routes the optional Ingress and HTTPRoute only to Services and ports that exist', () => {
    const routes = readDocuments(INGRESS_DIR);
    expect(routes.map((r) => r.kind).sort()).toEqual(['Gateway', 'HTTPRoute', 'Ingress', 'NetworkPolicy']);
    expect(findRouteProblems(routes, manifests)).toEqual([]);
    const broken = structuredClone(routes);
    broken.find((r) => r.kind === 'Ingress')!.spec.rules[0].http.paths[0].backend.service.port.number = 4999;
    expect(findRouteProblems(broken, manifests)).toEqual(['Ingress /posts/create: backend posts-clusterip-srv has no port 4999']);
  });
});

describe('the bus credentials', () => {
  const configs: Record<string, typeof postsConfig | typeof busConfig | typeof clientConfig> = {
    'event-bus': busConfig,
    posts: postsConfig,
    comments: commentsConfig,
    moderation: moderationConfig,
    query: queryConfig,
    client: clientConfig,
  };

  it('when each service and the client start, then each gets its own token as BUS_TOKEN, a different one for each, and no other caller\'s', () => {
    const callers = manifests.workloads.filter((w) => callerOf(w));
    expect(callers.map(callerOf).sort()).toEqual(['client', 'comments', 'moderation', 'posts', 'query']);
    expect(BUS_CALLERS.filter((caller) => !callers.map(callerOf).includes(caller))).toEqual(['operator']);
    for (const workload of callers) {
      const caller = callerOf(workload)!;
      const token = tokenOf(caller);
      expect(token).toMatch(/^local-development-only-/);
      const env = resolvedEnvOf(workload.container, manifests);
      expect([workload.name, env.BUS_TOKEN, env.BUS_CREDENTIALS]).toEqual([workload.name, token, undefined]);
      const others = BUS_CALLERS.filter((c) => c !== caller).map(tokenOf);
      expect([workload.name, Object.entries(env).filter(([, value]) => others.some((other) => value.includes(other)))]).toEqual([workload.name, []]);
    }
    expect(new Set(BUS_CALLERS.map(tokenOf)).size).toBe(BUS_CALLERS.length);
    // The client reads the bus for the flow page: with its own credential, which the bus lets read and never publish.
    expect(READ_ONLY_CALLERS).toEqual(['client']);
    const client = resolvedEnvOf(find(manifests, 'client-depl').container, manifests);
    expect([client.BUS_TOKEN, client.EVENT_BUS_URL, client.MODERATION_URL]).toEqual([tokenOf('client'), 'http://event-bus-srv:4005', 'http://moderation-srv:4003']);
    // No workload of ours is left without a credential today; one that is must hold none.
    expect(WITHOUT_BUS_TOKEN).toEqual([]);
    for (const name of WITHOUT_BUS_TOKEN) {
      const env = resolvedEnvOf(find(manifests, name).container, manifests);
      expect([name, env.BUS_TOKEN, env.BUS_CREDENTIALS]).toEqual([name, undefined, undefined]);
      expect(Object.values(env).filter((value) => BUS_CALLERS.map(tokenOf).includes(value))).toEqual([]);
    }
  });

  it('when the bus starts, then the kubelet has put every caller\'s token into BUS_CREDENTIALS, and it has no BUS_TOKEN', () => {
    const env = resolvedEnvOf(find(manifests, 'event-bus').container, manifests);
    expect(env.BUS_TOKEN).toBeUndefined();
    expect(env.BUS_CREDENTIALS).toBe(BUS_CALLERS.map((caller) => `${caller}:${tokenOf(caller)}`).join(','));
    expect(env.BUS_CREDENTIALS).not.toContain('$(');
  });

  it("when each workload's env is given to its configuration, then each accepts it: each caller keeps its own token, the bus knows every caller and delivers to each subscriber with its own", () => {
    for (const workload of manifests.workloads) {
      const parsed = configs[serviceOfImage(workload.container.image!)!.folder]!.safeParse(resolvedEnvOf(workload.container, manifests));
      expect([workload.name, parsed.success ? 'accepted' : parsed.error.message]).toEqual([workload.name, 'accepted']);
    }
    // Each caller keeps its own token and the bus's address: a schema that dropped them (zod leaves out the
    // keys it does not know) would accept the env and then call the bus with nothing.
    for (const workload of manifests.workloads.filter((w) => callerOf(w))) {
      const parsed = configs[serviceOfImage(workload.container.image!)!.folder]!.parse(resolvedEnvOf(workload.container, manifests)) as Record<string, unknown>;
      expect([workload.name, parsed.BUS_TOKEN, parsed.EVENT_BUS_URL]).toEqual([workload.name, tokenOf(callerOf(workload)!), 'http://event-bus-srv:4005']);
    }
    // The client's flow page: the bus's log and subscribers, and whether moderation is ready.
    const client = clientConfig.parse(resolvedEnvOf(find(manifests, 'client-depl').container, manifests)) as Record<string, unknown>;
    expect([client.EVENT_BUS_URL, client.MODERATION_URL]).toEqual(['http://event-bus-srv:4005', 'http://moderation-srv:4003']);
    const bus = busConfig.parse(resolvedEnvOf(find(manifests, 'event-bus').container, manifests));
    expect(Object.fromEntries(bus.BUS_CREDENTIALS)).toEqual(Object.fromEntries(BUS_CALLERS.map((caller) => [caller, tokenOf(caller)])));
    expect(bus.SUBSCRIBERS.map((s) => `${s.name} ${new URL(s.url).hostname}`)).toEqual(['posts posts-clusterip-srv', 'comments comments-srv', 'query query-srv', 'moderation moderation-srv']);
  });

  it('when a Secret gives the token as base64 data, then the runners decode it as the kubelet would', () => {
    const copy = classify(structuredClone(manifests.documents));
    secret(copy, 'posts-bus-credential').data = { token: Buffer.from('from-base64-data-value').toString('base64') };
    delete secret(copy, 'posts-bus-credential').stringData;
    expect(resolvedEnvOf(find(copy, 'posts-depl').container, copy).BUS_TOKEN).toBe('from-base64-data-value');
    expect(resolvedEnvOf(find(copy, 'event-bus').container, copy).BUS_CREDENTIALS).toMatch(/^posts:from-base64-data-value,comments:/);
  });

  it("when a service's Secret is missing, then starting it, or the bus, from the manifests fails as the kubelet would", () => {
    const copy = classify(structuredClone(manifests.documents));
    copy.secrets.splice(copy.secrets.indexOf(secret(copy, 'posts-bus-credential')), 1);
    expect(() => resolvedEnvOf(find(copy, 'posts-depl').container, copy)).toThrow(/refers to key token of Secret posts-bus-credential, which the manifests do not have/);
    expect(() => resolvedEnvOf(find(copy, 'event-bus').container, copy)).toThrow(/POSTS_BUS_TOKEN refers to key token of Secret posts-bus-credential/);
    expect(resolvedEnvOf(find(copy, 'comments-depl').container, copy).BUS_TOKEN).toBe(tokenOf('comments'));
  });
});

describe('$(VAR) in env values, as the kubelet expands them', () => {
  const env = (variables: { name: string; value?: string; secret?: string }[]) =>
    resolvedEnvOf(
      { name: 'c', env: variables.map(({ name, value, secret: from }) => (from ? { name, valueFrom: { secretKeyRef: { name: from, key: 'token', optional: true } } } : { name, value })) },
      manifests,
    );

  it('when a value names variables defined before it, then they are put in, Secrets included', () => {
    expect(env([{ name: 'A', value: 'one' }, { name: 'T', secret: 'query-bus-credential' }, { name: 'B', value: '$(A)-$(T)' }]).B).toBe(`one-${tokenOf('query')}`);
  });

  it('when a value names a variable defined after it, or never, then the reference stays as written', () => {
    expect(env([{ name: 'B', value: '$(A)/$(NOWHERE)' }, { name: 'A', value: 'one' }]).B).toBe('$(A)/$(NOWHERE)');
  });

  it('when an optional Secret is missing, then its variable is not defined and a reference to it stays', () => {
    const result = env([{ name: 'T', secret: 'no-such-secret' }, { name: 'B', value: 'x:$(T)' }]);
    expect(result).toEqual({ B: 'x:$(T)' });
  });

  it('when $$ comes before a reference, then it is the text $(...) and not expanded', () => {
    expect(env([{ name: 'A', value: 'one' }, { name: 'B', value: '$$(A) $$ $(A) $$$(A)' }]).B).toBe('$(A) $ one $one');
  });

  it('when a value holds a $ that starts no reference, or one never closed, then it stays as it is', () => {
    expect(expandVariables('cost: 5$ $x $(A', () => 'never')).toBe('cost: 5$ $x $(A');
    expect(expandVariables('$(A)$', (name) => (name === 'A' ? 'one' : undefined))).toBe('one$');
  });

  it('when a Secret\'s value holds $(...), then it is not expanded, and a variable defined twice takes the later value', () => {
    const copy = classify(structuredClone(manifests.documents));
    secret(copy, 'query-bus-credential').stringData!.token = 'local-development-$(A)-token';
    const result = resolvedEnvOf(
      { name: 'c', env: [{ name: 'A', value: 'one' }, { name: 'T', valueFrom: { secretKeyRef: { name: 'query-bus-credential', key: 'token' } } }, { name: 'A', value: 'two' }, { name: 'B', value: '$(A)' }] },
      copy,
    );
    expect(result).toEqual({ A: 'two', T: 'local-development-$(A)-token', B: 'two' });
  });

  it('when a name is one of Object\'s own, then it is only a name', () => {
    expect(env([{ name: 'B', value: '$(constructor)$(__proto__)' }]).B).toBe('$(constructor)$(__proto__)');
  });
});

describe('images', () => {
  const images = manifests.workloads.map((w) => ({ workload: w, ...serviceOfImage(w.container.image!)! }));

  it("when the build script runs, then it builds every manifest's image from its Dockerfile with the manifests' tag", () => {
    const plan = execFileSync('bash', ['scripts/build-images.sh', '--dry-run'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CONTAINER_ENGINE: 'docker', KUBECONFIG: '/nonexistent' },
    });
    for (const { folder, tag } of images) {
      expect(plan).toContain(`docker build -f ${folder}/Dockerfile -t blog/${folder}:${tag} .`);
    }
  });

  it('lists every image in skaffold.yaml with the same Dockerfile', () => {
    const skaffold = parse(fs.readFileSync(path.join(ROOT, 'skaffold.yaml'), 'utf8'));
    expect(skaffold.build.artifacts).toEqual(
      expect.arrayContaining(images.map(({ folder }) => ({ image: `blog/${folder}`, context: '.', docker: { dockerfile: `${folder}/Dockerfile` } }))),
    );
    expect(skaffold.manifests.rawYaml).toEqual(['infra/k8s/*.yaml']);
  });

  const defaults: Record<string, number> = {
    'event-bus': busConfig.parse({}).PORT,
    posts: postsConfig.parse({}).PORT,
    comments: commentsConfig.parse({}).PORT,
    moderation: moderationConfig.parse({}).PORT,
    query: queryConfig.parse({}).PORT,
    client: clientConfig.parse({}).PORT,
  };

  it.each(images.map((i) => [i.folder, i]))("%s: the Dockerfile exposes, and the code defaults to, the manifest's container port", (folder, { workload }) => {
    const containerPort = resolveTargetPort(workload.container, 'http');
    expect(readDockerfile(folder).runtime.exposed).toEqual([containerPort]);
    expect(defaults[folder]).toBe(containerPort);
  });
});
