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
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' };
    // SERVICE_NODE_ARGS passes Node options to every service: "--cpu-prof --cpu-prof-dir=/tmp/prof" for a
    // profiling run, "--inspect=127.0.0.1:0" for the walk test's coverage.
    const nodeArgs = (env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const readyUrl = `${this.url}/${until === 'ready' ? 'readyz' : 'healthz'}`;
    await this.run({ name: this.name, url: this.url, readyUrl, command, args: [...nodeArgs, ...args], cwd, env }, `${this.name} to be ${until}`);
  }

  async restart(): Promise<void> {
    await this.stop('SIGKILL');
    await this.start();
  }
}
