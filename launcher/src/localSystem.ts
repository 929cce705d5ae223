import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BLOG_SERVICES, type EngineName, type NatsSync } from '@blog/contracts';
import type { ManagedProcess } from './childProcess';
import { credentialEnv, natsPasswordEnv, newCredentials, type Credentials } from './credentials';
import { natsAuth, natsCluster, type NatsNode } from './natsCluster';
import { startNatsCluster } from './metaGroup';
import { freePort } from './ports';
import { SERVICE_NAMES, ServiceProcess, type ProcessName, type ServiceName } from './serviceProcess';

export type { EngineName };

export interface LocalSystemOptions {
  /** Also run the client server (needs `npm run build -w client` for its page), routed to these services. */
  client?: boolean;
  /** `embedded` (the default): the event-bus service keeps the log. `nats`: NATS JetStream does. */
  engine?: EngineName;
  /** With `nats`: servers in the NATS cluster (default 1; 3 makes a cluster with streams on all three). */
  natsNodes?: number;
  /** With `nats`: how JetStream syncs its files (default: natsCluster's choice for the number of servers). */
  natsSync?: NatsSync;
  /** With `nats`: processes of each service, the gateway included (default 1). */
  replicas?: number;
  /**
   * Each service its own bus token and the bus the map of them all (BUS_CREDENTIALS), with NATS users
   * and subject permissions on the NATS engine: every caller may publish only the event types it owns.
   */
  credentials?: boolean;
}

/** Where the services find their engine, and what it is: the environment every process starts with. */
function engineEnv(engine: EngineName, busPorts: number[], ports: Record<ServiceName, number[]>, nats: NatsNode[]): NodeJS.ProcessEnv {
  if (engine === 'nats') {
    return {
      NATS_URL: nats.map((node) => node.url).join(','),
      NATS_REPLICAS: String(Math.min(nats.length, 3)),
      EVENT_BUS_URL: `http://127.0.0.1:${busPorts[0]}`,
    };
  }
  return {
    EVENT_BUS_URL: `http://127.0.0.1:${busPorts[0]}`,
    // Named, so that with credentials each is delivered to with its own token.
    SUBSCRIBERS: BLOG_SERVICES.map((name) => `${name}=http://127.0.0.1:${ports[name][0]}/events`).join(','),
  };
}

/**
 * The five services on free loopback ports, with their engine's data in a fresh temporary folder: the
 * embedded bus's log, or the stores of a NATS cluster started for them. `services` holds the first
 * process of each service, `replicas` all of them.
 */
export class LocalSystem {
  readonly services: Record<ServiceName, ServiceProcess>;

  private constructor(
    readonly engine: EngineName,
    readonly replicas: Record<ServiceName, ServiceProcess[]>,
    readonly dataDir: string,
    /** The NATS servers (none with the embedded engine): started first, stopped last. */
    readonly nats: NatsNode[],
    /** The client server, when asked for: started last, stopped with the rest. */
    readonly client: ServiceProcess | null = null,
    /** Every caller's token, when the system was created with credentials. */
    readonly credentials: Credentials | null = null,
  ) {
    this.services = Object.fromEntries(SERVICE_NAMES.map((name) => [name, replicas[name][0]!])) as Record<ServiceName, ServiceProcess>;
  }

  static async create(extraEnv: NodeJS.ProcessEnv = {}, options: LocalSystemOptions = {}): Promise<LocalSystem> {
    const engine = options.engine ?? 'embedded';
    const replicaCount = engine === 'nats' ? (options.replicas ?? 1) : 1;
    const ports = {} as Record<ServiceName, number[]>;
    for (const name of SERVICE_NAMES) ports[name] = await Promise.all(Array.from({ length: replicaCount }, () => freePort()));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blog-system-'));
    const credentials = options.credentials ? newCredentials() : null;
    const auth = credentials && engine === 'nats' ? natsAuth(dataDir, natsPasswordEnv(credentials)) : null;
    const nats = engine === 'nats' ? await natsCluster(options.natsNodes ?? 1, dataDir, { auth, sync: options.natsSync }) : [];
    const env: NodeJS.ProcessEnv = {
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      RETRY_MAX_MS: '500',
      ...engineEnv(engine, ports['event-bus'], ports, nats),
      ...extraEnv,
    };
    const envOf = (name: ServiceName) => (credentials ? { ...env, ...credentialEnv(credentials, name, engine === 'nats') } : env);
    const replicas = Object.fromEntries(
      SERVICE_NAMES.map((name) => [name, ports[name].map((port) => new ServiceProcess(name, port, envOf(name)))]),
    ) as Record<ServiceName, ServiceProcess[]>;
    const client = options.client
      ? new ServiceProcess('client', await freePort(), {
          ...env,
          POSTS_URL: replicas.posts[0]!.url,
          COMMENTS_URL: replicas.comments[0]!.url,
          QUERY_URL: replicas.query[0]!.url,
          // The flow page: the bus's log and subscribers (with the client's own read-only token), and moderation's readiness.
          EVENT_BUS_URL: replicas['event-bus'][0]!.url,
          MODERATION_URL: replicas.moderation[0]!.url,
          ...(credentials ? { BUS_TOKEN: credentials.tokens.client } : {}),
        })
      : null;
    return new LocalSystem(engine, replicas, dataDir, nats, client, credentials);
  }

  async startAll(): Promise<void> {
    await startNatsCluster(this.nats);
    await Promise.all(this.replicas['event-bus'].map((bus) => bus.start()));
    await Promise.all(SERVICE_NAMES.slice(1).flatMap((name) => this.replicas[name].map((replica) => replica.start())));
    await this.client?.start();
  }

  url(name: ProcessName): string {
    if (name === 'client') {
      if (!this.client) throw new Error('this system was created without the client (LocalSystem.create(env, { client: true }))');
      return this.client.url;
    }
    return this.services[name].url;
  }

  /** The URLs of every process of a service, for load spread across its replicas. */
  urls(name: ServiceName): string[] {
    return this.replicas[name].map((replica) => replica.url);
  }

  /**
   * Every process of the system with the name figures and reports give it (`moderation`, or
   * `moderation-2` when a service has replicas; `client`; each NATS server's own): the bench's CPU and
   * memory figures, and a chaos run's kill timeline and last output.
   */
  processes(): { name: string; process: ManagedProcess }[] {
    const services = SERVICE_NAMES.flatMap((name) =>
      this.replicas[name].map((replica, index) => ({ name: this.replicas[name].length > 1 ? `${name}-${index + 1}` : name, process: replica })),
    );
    return [...services, ...(this.client ? [{ name: 'client', process: this.client }] : []), ...this.nats.map((node) => ({ name: node.name, process: node }))];
  }

  /** Stops every process (SIGKILL by default; SIGTERM lets them drain and write any --cpu-prof profile). */
  async stopAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await Promise.all([...SERVICE_NAMES.flatMap((name) => this.replicas[name].map((replica) => replica.stop(signal))), this.client?.stop(signal)]);
    await Promise.all(this.nats.map((node) => node.stop(signal)));
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
