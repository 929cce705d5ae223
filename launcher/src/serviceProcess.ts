import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processUsage } from './processUsage';
import { waitFor } from './waitFor';

const ROOT = path.resolve(__dirname, '../..');
export const SERVICE_NAMES = ['event-bus', 'posts', 'comments', 'moderation', 'query'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** The services, and the client server that serves the page and routes the API paths to them. */
export type ProcessName = ServiceName | 'client';

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
    return this.pid === undefined ? null : processUsage(this.pid);
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
