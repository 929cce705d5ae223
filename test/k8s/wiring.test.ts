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
import { BUS_TOKEN_REF, WITHOUT_BUS_TOKEN, findRouteProblems, findWiringProblems } from '../support/k8sWiring';
import { INGRESS_DIR, ROOT, classify, loadManifests, readDocuments, resolveTargetPort, resolvedEnvOf, secretValue, serviceOfImage } from '../support/manifests';

const manifests = loadManifests();
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

/** Loads the manifests again and lets a test break one thing in them. */
function brokenManifests(change: (m: ReturnType<typeof loadManifests>) => void) {
  const copy = classify(structuredClone(manifests.documents));
  change(copy);
  return findWiringProblems(copy);
}

const find = (m: ReturnType<typeof loadManifests>, name: string) => m.workloads.find((w) => w.name === name)!;
const busToken = (m: ReturnType<typeof loadManifests>, name: string) => find(m, name).container.env!.find((e) => e.name === 'BUS_TOKEN')!;
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

  it('has the bus token Secret and the NetworkPolicies', () => {
    expect(manifests.secrets.map((s) => `${s.type}/${s.metadata.name}`)).toEqual(['Opaque/bus-token']);
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
    ['a bus token written into a manifest', (m: any) => {
      const variable = busToken(m, 'query-depl');
      delete variable.valueFrom;
      variable.value = 'x'.repeat(32);
    }, /query-depl: BUS_TOKEN must come from secretKeyRef bus-token\/token, not a literal value/],
    ['no bus token for a workload', (m: any) => {
      const env = find(m, 'moderation-depl').container.env!;
      env.splice(env.indexOf(busToken(m, 'moderation-depl')), 1);
    }, /moderation-depl: BUS_TOKEN is set 0 times, not once/],
    ['a bus token from a misspelled Secret', (m: any) => (busToken(m, 'event-bus').valueFrom!.secretKeyRef!.name = 'bus-tokn'), /event-bus: env BUS_TOKEN refers to Secret bus-tokn, which is not in the manifests/],
    ['a bus token from a key the Secret lacks', (m: any) => (busToken(m, 'comments-depl').valueFrom!.secretKeyRef!.key = 'value'), /comments-depl: env BUS_TOKEN refers to key value, which Secret bus-token does not have/],
    ['an optional bus token', (m: any) => (busToken(m, 'posts-depl').valueFrom!.secretKeyRef!.optional = true), /posts-depl: BUS_TOKEN must not be optional/],
    ['the bus token given to the client', (m: any) => {
      find(m, 'client-depl').container.env!.push({ name: 'BUS_TOKEN', valueFrom: { secretKeyRef: { ...BUS_TOKEN_REF } } });
    }, /client-depl: never talks to the bus, so it must not be given BUS_TOKEN/],
    ['the Secret without its development label', (m: any) => delete m.secrets[0].metadata.labels['app.kubernetes.io/component'], /carry the label app.kubernetes.io\/component: dev-secret/],
  ])('when a manifest has %s, then the check reports it', (_name, change, message) => {
    const problems = brokenManifests(change);
    expect(problems.join('\n')).toMatch(message);
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

describe('the bus token', () => {
  it('when each workload starts, then it gets BUS_TOKEN from the Secret in the manifests, the same for all', () => {
    const token = secretValue(manifests, BUS_TOKEN_REF.name, BUS_TOKEN_REF.key);
    expect(token).toMatch(/^local-development-only-/);
    for (const workload of manifests.workloads.filter((w) => !WITHOUT_BUS_TOKEN.includes(w.name))) {
      expect([workload.name, resolvedEnvOf(workload.container, manifests).BUS_TOKEN]).toEqual([workload.name, token]);
    }
    // The client faces browsers and never talks to the bus: it must not hold the secret.
    for (const name of WITHOUT_BUS_TOKEN) expect([name, resolvedEnvOf(find(manifests, name).container, manifests).BUS_TOKEN]).toEqual([name, undefined]);
  });

  it("when the Secret's value is given to every service's configuration, then each accepts it", () => {
    const token = secretValue(manifests, BUS_TOKEN_REF.name, BUS_TOKEN_REF.key)!;
    for (const schema of [busConfig, postsConfig, commentsConfig, moderationConfig, queryConfig]) {
      expect(schema.safeParse({ BUS_TOKEN: token }).success).toBe(true);
    }
  });

  it('when a Secret gives the token as base64 data, then the runners decode it as the kubelet would', () => {
    const copy = classify(structuredClone(manifests.documents));
    copy.secrets[0]!.data = { token: Buffer.from('from-base64-data-value').toString('base64') };
    delete copy.secrets[0]!.stringData;
    expect(resolvedEnvOf(find(copy, 'posts-depl').container, copy).BUS_TOKEN).toBe('from-base64-data-value');
  });

  it('when the Secret is missing, then starting a workload from the manifests fails as the kubelet would', () => {
    const copy = classify(structuredClone(manifests.documents));
    copy.secrets.splice(0);
    expect(() => resolvedEnvOf(find(copy, 'posts-depl').container, copy)).toThrow(/refers to key token of Secret bus-token, which the manifests do not have/);
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
