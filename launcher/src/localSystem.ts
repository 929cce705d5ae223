import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './waitFor';

const ROOT = path.resolve(__dirname, '../..');
/** USER_HZ: Linux reports process CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;
export const SERVICE_NAMES = ['event-bus', 'posts', 'comments', 'moderation', 'query'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** The services, and the client server that serves the page and routes the API paths to them. */
export type ProcessName = ServiceName | 'client';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One service running as a real process from its build, as `npm start` would run it. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private output: string[] = [];

  constructor(
    readonly name: ProcessName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** CPU time and peak resident memory so far, read from /proc (Linux); null elsewhere or when stopped. */
  usage(): { cpuSeconds: number; peakRssBytes: number } | null {
    const pid = this.pid;
    if (pid === undefined) return null;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, peakRssBytes: peakKb * 1024 };
    } catch {
      return null;
    }
  }

  /** The last lines the process printed, for a failing test's message. */
  recentOutput(): string {
    return this.output.slice(-30).join('');
  }

  /** Starts the process and waits until it answers `/readyz` (or only `/healthz`, for `until: 'alive'`). */
  async start({ until = 'ready' }: { until?: 'ready' | 'alive' } = {}): Promise<void> {
    const entry = path.join(ROOT, this.name, 'dist', 'index.js');
    if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
    // SERVICE_NODE_ARGS lets a profiling run pass e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to every service.
    const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, entry], {
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    await waitFor(
      `${this.name} to be ${until}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}: ${this.recentOutput()}`);
        const response = await fetch(`${this.url}/${until === 'ready' ? 'readyz' : 'healthz'}`);
        return response.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  }

  /** Sends `signal` and waits for the process to be gone; answers its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  async restart(): Promise<void> {
    await this.stop('SIGKILL');
    await this.start();
  }
}

export interface LocalSystemOptions {
  /** Also run the client server (needs `npm run build -w client` for its page), routed to these services. */
  client?: boolean;
}

/** The five services on free loopback ports, with the bus's log in a fresh temporary folder. */
export class LocalSystem {
  private constructor(
    readonly services: Record<ServiceName, ServiceProcess>,
    readonly dataDir: string,
    /** The client server, when asked for: started last, stopped with the rest. */
    readonly client: ServiceProcess | null = null,
  ) {}

  static async create(extraEnv: NodeJS.ProcessEnv = {}, options: LocalSystemOptions = {}): Promise<LocalSystem> {
    const ports = Object.fromEntries(
      await Promise.all(SERVICE_NAMES.map(async (name) => [name, await freePort()] as const)),
    ) as Record<ServiceName, number>;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blog-system-'));
    const env: NodeJS.ProcessEnv = {
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      EVENT_BUS_URL: `http://127.0.0.1:${ports['event-bus']}`,
      SUBSCRIBERS: ['posts', 'comments', 'query', 'moderation']
        .map((name) => `http://127.0.0.1:${ports[name as ServiceName]}/events`)
        .join(','),
      RETRY_MAX_MS: '500',
      ...extraEnv,
    };
    const services = Object.fromEntries(
      SERVICE_NAMES.map((name) => [name, new ServiceProcess(name, ports[name], env)]),
    ) as Record<ServiceName, ServiceProcess>;
    const client = options.client
      ? new ServiceProcess('client', await freePort(), {
          ...env,
          POSTS_URL: services.posts.url,
          COMMENTS_URL: services.comments.url,
          QUERY_URL: services.query.url,
        })
      : null;
    return new LocalSystem(services, dataDir, client);
  }

  async startAll(): Promise<void> {
    await this.services['event-bus'].start();
    await Promise.all(SERVICE_NAMES.slice(1).map((name) => this.services[name].start()));
    await this.client?.start();
  }

  url(name: ProcessName): string {
    if (name === 'client') {
      if (!this.client) throw new Error('this system was created without the client (LocalSystem.create(env, { client: true }))');
      return this.client.url;
    }
    return this.services[name].url;
  }

  /** Stops every service (SIGKILL by default; SIGTERM lets them drain and write any --cpu-prof profile). */
  async stopAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await Promise.all([...SERVICE_NAMES.map((name) => this.services[name].stop(signal)), this.client?.stop(signal)]);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
