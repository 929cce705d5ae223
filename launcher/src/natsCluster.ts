import fs from 'node:fs';
import path from 'node:path';
import { natsAuthorizationConfig } from '@blog/service-kit';
import { freePort } from './ports';
import { ManagedProcess } from './childProcess';
import { NATS_SERVER_MISSING, natsServerProgram } from './natsServer';

export { NATS_SERVER_MISSING, natsServerProgram };

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
    private readonly storeDir: string,
    private readonly routes: string[],
    private readonly program: string,
    private readonly auth: NatsAuth | null = null,
  ) {
    super(name);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.ports.client}`;
  }

  /** Starts the server and waits until its monitoring port says it is healthy. */
  async start(): Promise<void> {
    // The users' file first: the flags after it set everything else, as they would without it.
    const args = [...(this.auth ? ['-c', this.auth.configFile] : []), '-js', '-sd', this.storeDir, '-a', '127.0.0.1', '-p', String(this.ports.client), '-m', String(this.ports.monitor), '-n', this.name];
    if (this.routes.length > 0) {
      args.push('--cluster_name', 'blog', '--cluster', `nats://127.0.0.1:${this.ports.cluster}`, '--routes', this.routes.join(','));
    }
    const env = { ...process.env, ...this.auth?.passwords };
    await this.run(this.program, args, env, `http://127.0.0.1:${this.ports.monitor}/healthz`, `${this.name} to accept connections`);
  }

  async restart(): Promise<void> {
    await this.stop('SIGKILL');
    await this.start();
  }
}

/**
 * A NATS cluster of `size` nodes on free loopback ports (one node: a plain server, no cluster); with
 * `auth`, every client must log in as one of its users and keeps to that user's permissions.
 */
export async function natsCluster(size: number, dataDir: string, auth: NatsAuth | null = null): Promise<NatsNode[]> {
  const program = natsServerProgram();
  if (!program) throw new Error(NATS_SERVER_MISSING);
  const ports: NodePorts[] = [];
  for (let index = 0; index < size; index += 1) ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });
  const routes = size > 1 ? ports.map((p) => `nats://127.0.0.1:${p.cluster}`) : [];
  return ports.map((nodePorts, index) => {
    const storeDir = path.join(dataDir, `nats-${index + 1}`);
    fs.mkdirSync(storeDir, { recursive: true });
    return new NatsNode(`nats-${index + 1}`, nodePorts, storeDir, routes, program, auth);
  });
}
