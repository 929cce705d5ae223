import path from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINE_NAMES } from '@blog/contracts';
import { z } from 'zod';
import { CONTROL_PORT, type EngineName, type RunMode } from './plan';

/** How one run of the supervisor was asked for: its command line and its environment, checked once. */
export interface RunOptions {
  engine: EngineName;
  mode: RunMode;
  /** The processes' own output on the terminal too (always with --dev). */
  showLogs: boolean;
  /** `text` for a person, `json` (one object per line) for a program; `auto` picks by whether stdout is a terminal. */
  output: 'text' | 'json';
  portOffset: number;
  controlPort: number;
  logsDir: string;
  /** The address every process listens on: loopback, unless the run is opened to the network. */
  listenHost: string;
  /** The bus's log (embedded engine), and the NATS server's store: one run each, a folder of their own per PORT_OFFSET. */
  busDataDir: string;
  natsStoreDir: string;
  moderationDelayMs: number;
}

export const USAGE = `usage: node launcher/dist/supervise.js [--engine embedded|nats] [--dev] [--logs] [--output auto|text|json]
  --engine nats   run a local nats-server (JetStream) too, and the services on it (npm run start:nats)
  --dev           each service from its sources under nodemon, with readable logs shown (npm run dev)
  --logs          show the services' logs here too (they always go to logs/<service>.log)
  --output        text for a terminal, json (one object per line) for a program; auto: json when piped
environment: PORT_OFFSET (add to every port), SUPERVISOR_PORT (4100), LOGS_DIR (logs/),
  NATS_STORE_DIR (data/nats/), MODERATION_DELAY_MS (0), DATA_DIR (the bus's log, event-bus/data/); with a
  PORT_OFFSET, the data folders default to event-bus/data-<offset>/ and data/nats-<offset>/; LISTEN_HOST
  (127.0.0.1: this machine only; 0.0.0.0 opens the blog to the network, never the control API)`;

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  PORT_OFFSET: intFrom(0, 50_000).default(0),
  SUPERVISOR_PORT: intFrom(1, 65_535).optional(),
  LOGS_DIR: z.string().min(1).optional(),
  NATS_STORE_DIR: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).optional(),
  LISTEN_HOST: z.string().min(1).default('127.0.0.1'),
  // The same range moderation itself accepts; the control API allows less (under the bus's delivery timeout).
  MODERATION_DELAY_MS: intFrom(0, 60_000).default(0),
});

/** Reads the command line and the environment; throws a message naming what is wrong. */
export function readRunOptions(args: string[], env: NodeJS.ProcessEnv, stdoutIsTerminal: boolean, root: string): RunOptions {
  const { values } = parseArgs({
    args,
    options: {
      engine: { type: 'string', default: 'embedded' },
      dev: { type: 'boolean', default: false },
      logs: { type: 'boolean', default: false },
      output: { type: 'string', default: 'auto' },
    },
    strict: true,
  });
  const engine = z.enum(ENGINE_NAMES).safeParse(values.engine);
  if (!engine.success) throw new Error(`--engine must be embedded or nats, not "${values.engine}"`);
  const output = z.enum(['auto', 'text', 'json']).safeParse(values.output);
  if (!output.success) throw new Error(`--output must be auto, text or json, not "${values.output}"`);
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const settings = parsed.data;
  return {
    engine: engine.data,
    mode: values.dev ? 'dev' : 'start',
    showLogs: values.logs || values.dev,
    output: output.data === 'auto' ? (stdoutIsTerminal ? 'text' : 'json') : output.data,
    portOffset: settings.PORT_OFFSET,
    controlPort: settings.SUPERVISOR_PORT ?? CONTROL_PORT + settings.PORT_OFFSET,
    logsDir: path.resolve(root, settings.LOGS_DIR ?? 'logs'),
    listenHost: settings.LISTEN_HOST,
    // A second copy on other ports gets folders of its own, so it never shares a log with the first.
    busDataDir: path.resolve(root, 'event-bus', settings.DATA_DIR ?? (settings.PORT_OFFSET === 0 ? 'data' : `data-${settings.PORT_OFFSET}`)),
    natsStoreDir: path.resolve(root, settings.NATS_STORE_DIR ?? path.join('data', settings.PORT_OFFSET === 0 ? 'nats' : `nats-${settings.PORT_OFFSET}`)),
    moderationDelayMs: settings.MODERATION_DELAY_MS,
  };
}
