import fs from 'node:fs';
import path from 'node:path';
import { BLOG_SERVICES, DEFAULT_PORTS, PROCESS_NAMES, natsServerConfig, type EngineName, type ProcessName } from '@blog/contracts';

/** The repository root, from this file in src/supervisor/ or dist/supervisor/ alike. */
export const ROOT = path.resolve(__dirname, '../../..');

export const SUPERVISED_NAMES = PROCESS_NAMES;
export type SupervisedName = ProcessName;
/** The blog's own programs: every supervised process but NATS. */
export type AppName = Exclude<SupervisedName, 'nats'>;
export const APP_NAMES = SUPERVISED_NAMES.filter((name): name is AppName => name !== 'nats');

export type { EngineName };
export type RunMode = 'start' | 'dev';

/** The ports of `npm start`: the course's, which the README, the client's defaults and the manifests use. */
export { DEFAULT_PORTS };
export const NATS_MONITOR_PORT = 8222;
export const CONTROL_PORT = 4100;

/**
 * One program the supervisor runs: how to start it, and how to tell it is ready. The tests' processes
 * are specs too, named as they like (`nats-2`, a stand-in program).
 */
export interface ProcessSpec<Name extends string = SupervisedName> {
  name: Name;
  /** What a person opens or points a client at. */
  url: string;
  /** Answers 200 once the process is ready (its /readyz; NATS's monitoring /healthz). */
  readyUrl: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A port the run needs, and who needs it: checked free before anything starts. */
export interface PortClaim {
  port: number;
  wantedBy: string;
}

export interface PlanOptions {
  engine: EngineName;
  mode: RunMode;
  /** Added to every default port, so a second copy can run beside the first (PORT_OFFSET). */
  portOffset: number;
  controlPort: number;
  /** The supervisor's own environment: every process inherits it, under the wiring below. */
  env: NodeJS.ProcessEnv;
  /** With the NATS engine: the nats-server program, and the folder of its store. */
  nats?: { program: string; storeDir: string };
  /** The bus's log folder (DATA_DIR), when the run gives it one of its own. */
  busDataDir?: string;
  /** Where every process listens (default 127.0.0.1: this machine only). */
  listenHost?: string;
  root?: string;
}

export interface Plan {
  specs: ProcessSpec[];
  ports: PortClaim[];
  controlUrl: string;
  /** Files the processes read, written before any starts (nats-server's configuration). */
  files: { path: string; text: string }[];
}

/** The order the processes start in, and the order `GET /processes` lists them. */
function namesOf(engine: EngineName): SupervisedName[] {
  return engine === 'nats' ? [...SUPERVISED_NAMES] : SUPERVISED_NAMES.filter((name) => name !== 'nats');
}

/**
 * What every process is told about where the others are: what the Kubernetes manifests say with
 * Service names, said here with loopback ports. It wins over the inherited environment, so a stray
 * EVENT_BUS_URL in a shell cannot wire one service to a bus the others do not use.
 */
function wiringOf(name: AppName, port: (name: SupervisedName) => number, options: PlanOptions, controlUrl: string): NodeJS.ProcessEnv {
  const local = (service: SupervisedName) => `http://localhost:${port(service)}`;
  const nats = options.engine === 'nats' ? { NATS_URL: `nats://127.0.0.1:${port('nats')}` } : {};
  // A local run stays on the machine: every process listens on loopback only (containers, which are
  // reached through their Services, keep their default of every interface).
  const common = { PORT: String(port(name)), HOST: options.listenHost ?? '127.0.0.1', EVENT_BUS_URL: local('event-bus'), ...nats, ...(options.mode === 'dev' ? { LOG_FORMAT: 'pretty' } : {}) };
  if (name === 'event-bus' && options.engine === 'embedded') {
    const subscribers = BLOG_SERVICES.map((service) => `${service}=${local(service)}/events`);
    return { ...common, SUBSCRIBERS: subscribers.join(','), ...(options.busDataDir ? { DATA_DIR: options.busDataDir } : {}) };
  }
  if (name === 'client') {
    return {
      ...common,
      POSTS_URL: local('posts'),
      COMMENTS_URL: local('comments'),
      QUERY_URL: local('query'),
      MODERATION_URL: local('moderation'),
      // Only the client is told: it is the flow page's server, and the only caller the control API has.
      SUPERVISOR_URL: controlUrl,
    };
  }
  return common;
}

/**
 * How one of the blog's programs runs. `start`: node on its build, directly (no npm or shell between, so
 * its pid is the service's and a signal reaches it). `dev`: its package's own `dev` script (nodemon on
 * its sources), in a shell as npm would run it; the supervisor signals the whole process group, so the
 * shell's children go with it.
 */
function commandOf(name: AppName, options: PlanOptions, root: string): Pick<ProcessSpec, 'command' | 'args' | 'cwd'> & { path?: string } {
  const cwd = path.join(root, name);
  if (options.mode === 'start') return builtCommandOf(name, root);
  const manifest = JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const dev = manifest.scripts?.dev;
  if (!dev) throw new Error(`${name}/package.json has no "dev" script`);
  const bins = [path.join(cwd, 'node_modules', '.bin'), path.join(root, 'node_modules', '.bin')];
  return { command: 'sh', args: ['-c', dev], cwd, path: [...bins, options.env.PATH ?? ''].join(path.delimiter) };
}

/** How `npm start` runs one of the blog's programs from its build; the tests' processes run the same way. */
export function builtCommandOf(name: AppName, root = ROOT): Pick<ProcessSpec, 'command' | 'args' | 'cwd'> {
  const cwd = path.join(root, name);
  const entry = path.join(cwd, 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`${path.relative(root, entry)} is missing: run "npm run build" first (npm start does)`);
  return { command: process.execPath, args: [entry], cwd };
}

/** The single nats-server of `npm run start:nats`: its configuration file lives in its store's folder. */
function natsSpec(options: PlanOptions, port: (name: SupervisedName) => number): { spec: ProcessSpec; config: { path: string; text: string } } {
  if (!options.nats) throw new Error('the NATS engine needs the nats-server program');
  const monitor = NATS_MONITOR_PORT + options.portOffset;
  const configFile = path.join(options.nats.storeDir, 'nats.conf');
  // One server has no other copy: every write is synced before it is acknowledged.
  const text = natsServerConfig({ name: 'nats', listen: `127.0.0.1:${port('nats')}`, monitor: `127.0.0.1:${monitor}`, storeDir: options.nats.storeDir, sync: 'always' });
  return {
    spec: {
      name: 'nats',
      url: `nats://127.0.0.1:${port('nats')}`,
      readyUrl: `http://127.0.0.1:${monitor}/healthz`,
      command: options.nats.program,
      args: ['-c', configFile],
      cwd: options.root ?? ROOT,
      env: options.env,
    },
    config: { path: configFile, text },
  };
}

/** Every process of one run, in start order, and every port they (and the control API) need. */
export function planRun(options: PlanOptions): Plan {
  const root = options.root ?? ROOT;
  const port = (name: SupervisedName) => DEFAULT_PORTS[name] + options.portOffset;
  const controlUrl = `http://127.0.0.1:${options.controlPort}`;
  const files: Plan['files'] = [];
  const specs = namesOf(options.engine).map((name): ProcessSpec => {
    if (name === 'nats') {
      const { spec, config } = natsSpec(options, port);
      files.push(config);
      return spec;
    }
    const { path: searchPath, ...command } = commandOf(name, options, root);
    const env = { ...options.env, ...(searchPath ? { PATH: searchPath } : {}), ...wiringOf(name, port, options, controlUrl) };
    return { name, url: `http://localhost:${port(name)}`, readyUrl: `http://127.0.0.1:${port(name)}/readyz`, ...command, env };
  });
  const ports: PortClaim[] = namesOf(options.engine).map((name) => ({ port: port(name), wantedBy: name }));
  if (options.engine === 'nats') ports.push({ port: NATS_MONITOR_PORT + options.portOffset, wantedBy: 'nats (monitoring)' });
  ports.push({ port: options.controlPort, wantedBy: 'the supervisor (its control API)' });
  return { specs, ports, controlUrl, files };
}
