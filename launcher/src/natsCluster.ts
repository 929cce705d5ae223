import fs from 'node:fs';
import path from 'node:path';
import { NATS_CLUSTER_SYNC, natsServerConfig, type NatsSync } from '@blog/contracts';
import { natsAuthorizationConfig } from '@blog/service-kit';
import { freePort } from './ports';
import { ManagedProcess } from './childProcess';
import { natsServerProgram, type NatsServerProgram } from './natsServer';

interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

/** Users and their subject permissions: the configuration file, and the passwords it reads from the environment. */
export interface NatsAuth {
  configFile: string;
  passwords: NodeJS.ProcessEnv;
}

/** Writes the users' configuration (natsAuthorizationConfig) into `dir`, for servers started with `passwords`. */
export function natsAuth(dir: string, passwords: NodeJS.ProcessEnv): NatsAuth {
  const configFile = path.join(dir, 'nats-users.conf');
  fs.writeFileSync(configFile, natsAuthorizationConfig());
  return { configFile, passwords };
}

/** One nats-server with JetStream, its store in its own folder; part of a cluster when there are several. */
export class NatsNode extends ManagedProcess {
  constructor(
    name: string,
    readonly ports: NodePorts,
    private readonly configFile: string,
    private readonly program: NatsServerProgram,
    private readonly auth: NatsAuth | null = null,
  ) {
    super(name);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.ports.client}`;
  }

  /** The nats-server release this node runs: `2.10.27`. */
  get version(): string {
    return this.program.version;
  }

  /**
   * Starts the server and waits until its monitoring port says it is healthy: its streams and consumers
   * current, which a server with an empty store in a cluster takes longer to reach (`timeoutMs`).
   */
  async start(timeoutMs?: number): Promise<void> {
    const spec = {
      name: this.name,
      url: this.url,
      readyUrl: `http://127.0.0.1:${this.ports.monitor}/healthz`,
      command: this.program.path,
      args: ['-c', this.configFile],
      cwd: path.dirname(this.configFile),
      env: { ...process.env, ...this.auth?.passwords },
    };
    await this.run(spec, `${this.name} to accept connections`, timeoutMs);
  }

  /** Stops it (SIGKILL by default; SIGTERM lets it flush and leave its cluster) and starts it again. */
  async restart(signal: NodeJS.Signals = 'SIGKILL', timeoutMs?: number): Promise<void> {
    await this.stop(signal);
    await this.start(timeoutMs);
  }

  /**
   * Starts it again after a kill; one still not healthy after `timeoutMs` is stopped and started once
   * more, as the kubelet restarts a container whose startup probe keeps failing. nats-server 2.10.27,
   * killed and started again, has stayed "JetStream is not current with the meta leader" for good, and a
   * second start brought it back (docs/KUBERNETES.md); said on stderr when it happens.
   */
  async startAfterKill(timeoutMs?: number): Promise<void> {
    try {
      await this.start(timeoutMs);
    } catch (error) {
      if (this.pid === undefined) throw error;
      console.warn(`${this.name} was not healthy in time after its restart, so it is started once more: ${(error as Error).message.split(';').slice(0, 2).join(';')}`);
      await this.restart('SIGTERM', timeoutMs);
    }
  }
}

export interface NatsClusterOptions {
  /** Users and their permissions, when every client must log in. */
  auth?: NatsAuth | null;
  /** How JetStream syncs (default: `always` on one server, the cluster's setting on several). */
  sync?: NatsSync;
  /** Another nats-server than natsServerProgram() finds (a test of an older one). */
  program?: NatsServerProgram;
}

/**
 * A NATS cluster of `size` nodes on free loopback ports (one node: a plain server, no cluster), each
 * started from a configuration file written by natsServerConfig, as `npm run start:nats` and
 * infra/scale start theirs. With `auth`, every client must log in as one of its users and keeps to that
 * user's permissions.
 */
export async function natsCluster(size: number, dataDir: string, options: NatsClusterOptions = {}): Promise<NatsNode[]> {
  const program = options.program ?? natsServerProgram();
  const sync = options.sync ?? (size > 1 ? NATS_CLUSTER_SYNC : 'always');
  const ports: NodePorts[] = [];
  for (let index = 0; index < size; index += 1) ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });
  const routes = ports.map((p) => `nats://127.0.0.1:${p.cluster}`);
  return ports.map((nodePorts, index) => {
    const name = `nats-${index + 1}`;
    const storeDir = path.join(dataDir, name);
    fs.mkdirSync(storeDir, { recursive: true });
    const configFile = path.join(dataDir, `${name}.conf`);
    const config = natsServerConfig({
      name,
      listen: `127.0.0.1:${nodePorts.client}`,
      monitor: `127.0.0.1:${nodePorts.monitor}`,
      storeDir,
      sync,
      cluster: size > 1 ? { listen: `127.0.0.1:${nodePorts.cluster}`, routes } : undefined,
      usersFile: options.auth ? path.basename(options.auth.configFile) : undefined,
    });
    fs.writeFileSync(configFile, config);
    return new NatsNode(name, nodePorts, configFile, program, options.auth ?? null);
  });
}
