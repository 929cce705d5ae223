import { SERVICE_NAMES, type ServiceName } from '@blog/contracts';
import { ManagedProcess } from './childProcess';
import { builtCommandOf } from './supervisor/plan';

export { SERVICE_NAMES, type ServiceName };
/** The services, and the client server that serves the page and routes the API paths to them. */
export type ProcessName = ServiceName | 'client';

/** One service running as a real process from its build, as `npm start` would run it. */
export class ServiceProcess extends ManagedProcess {
  constructor(
    override readonly name: ProcessName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    super(name);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits until it answers `/readyz` (or only `/healthz`, for `until: 'alive'`). */
  async start({ until = 'ready' }: { until?: 'ready' | 'alive' } = {}): Promise<void> {
    const { command, args, cwd } = builtCommandOf(this.name);
    // SERVICE_NODE_ARGS lets a profiling run pass e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to every service.
    const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const env = { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' };
    const readyUrl = `${this.url}/${until === 'ready' ? 'readyz' : 'healthz'}`;
    await this.run({ name: this.name, url: this.url, readyUrl, command, args: [...nodeArgs, ...args], cwd, env }, `${this.name} to be ${until}`);
  }

  async restart(): Promise<void> {
    await this.stop('SIGKILL');
    await this.start();
  }
}
