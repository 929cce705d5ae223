import fs from 'node:fs';
import path from 'node:path';
import { onExit } from 'signal-exit';
import { natsServerProgram } from './natsServer';
import { createControlServer, listenOnLoopback } from './supervisor/controlApi';
import { planRun, ROOT, type Plan } from './supervisor/plan';
import { nodeVersionProblem, requiredNodeMajor } from './supervisor/nodeVersion';
import { claimFolder, releaseFolder } from './supervisor/folderLock';
import { blockedPorts, heldPorts } from './supervisor/portCheck';
import { JsonReporter, TextReporter, type Reporter } from './supervisor/reporter';
import { commandLineProblem, wantsHelp } from '@blog/service-kit';
import { readRunOptions, USAGE, type RunOptions } from './supervisor/runOptions';
import { Supervisor } from './supervisor/supervisor';
import { STOP_GRACE_MS } from './supervisor/supervisedProcess';

/**
 * `npm start` (and `npm run dev`, `npm run start:nats`): runs the blog's processes the way Kubernetes
 * runs its Deployments, restarting each one that crashes, and stops them all on Ctrl+C or SIGTERM.
 * The npm scripts `exec` this program, so npm's child is this process and the signals npm forwards
 * reach it. See supervisor/ for the parts.
 */

function reporterFor(options: RunOptions): Reporter {
  const outputs = { out: process.stdout, err: process.stderr };
  return options.output === 'json' ? new JsonReporter(outputs) : new TextReporter(outputs, options.showLogs);
}

/** A folder as a person would type it: relative when it is under the current one. */
function shortPath(folder: string): string {
  const relative = path.relative(process.cwd(), folder);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative;
}

/** Where the engine keeps its data: the folder this run claims. */
const dataFolderOf = (options: RunOptions) => (options.engine === 'nats' ? options.natsStoreDir : options.busDataDir);

/** The plan of this run, or why there is none (no nats-server, a service not built). */
function planFor(options: RunOptions): Plan {
  const natsProgram = options.engine === 'nats' ? natsServerProgram().path : null;
  if (natsProgram) fs.mkdirSync(options.natsStoreDir, { recursive: true });
  const plan = planRun({
    engine: options.engine,
    mode: options.mode,
    portOffset: options.portOffset,
    controlPort: options.controlPort,
    env: process.env,
    nats: natsProgram ? { program: natsProgram, storeDir: options.natsStoreDir } : undefined,
    busDataDir: options.busDataDir,
    listenHost: options.listenHost,
  });
  return plan;
}

function portsMessage(held: Awaited<ReturnType<typeof heldPorts>>, options: RunOptions): string {
  const lines = held.map(({ port, wantedBy, find }) => `  port ${port} (${wantedBy}): see which program holds it with  ${find}`);
  const other = options.portOffset === 0 ? 'PORT_OFFSET=10000 npm start runs this copy on 14000-14005, 13000 and 14100 instead' : `try another PORT_OFFSET than ${options.portOffset}`;
  return [
    'Nothing was started: another program already listens on ports this run needs.',
    ...lines,
    `Stop that program (an earlier npm start still running? Ctrl+C in its terminal, or kill its pid), or ${other}.`,
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (wantsHelp(args)) {
    console.log(USAGE);
    return 0;
  }
  let options: RunOptions;
  try {
    options = readRunOptions(args, process.env, process.stdout.isTTY === true, ROOT);
  } catch (error) {
    console.error(`${commandLineProblem(error)}; --help lists the options`);
    return 2;
  }
  const reporter = reporterFor(options);
  const fail = (message: string, details: Record<string, unknown> = {}) => {
    reporter.problem({ message, ...details });
    return 1;
  };

  const tooOld = nodeVersionProblem(process.versions.node, requiredNodeMajor(ROOT));
  if (tooOld) return fail(tooOld, { node: process.versions.node });

  let plan: Plan;
  try {
    plan = planFor(options);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  // Before anything starts: a port some other program holds would answer for a service, and one fetch
  // refuses would never be reached. Held ports first: the fetch probe connects, and must only ever meet
  // a closed port, never send a request to someone else's program.
  const held = await heldPorts(plan.ports);
  if (held.length > 0) return fail(portsMessage(held, options), { ports: held });
  const blocked = await blockedPorts(plan.ports);
  if (blocked.length > 0) {
    const named = blocked.map(({ port, wantedBy }) => `${port} (${wantedBy})`).join(', ');
    return fail(`Nothing was started: Node's fetch refuses to connect to port ${named}, which the services use to reach each other. Choose another PORT_OFFSET than ${options.portOffset}.`, { ports: blocked });
  }
  // And one run per data folder: two buses (or NATS servers) writing one log would corrupt it.
  const folder = dataFolderOf(options);
  const holder = claimFolder(folder);
  if (holder !== null) {
    return fail(
      `Nothing was started: the data folder ${shortPath(folder)} is in use by another run (pid ${holder}). Stop that one, or run this copy on a folder of its own: ` +
        'PORT_OFFSET=10000 npm start gives it event-bus/data-10000/ (and data/nats-10000/) by itself, or set DATA_DIR (NATS_STORE_DIR with --engine nats).',
      { folder, heldBy: holder },
    );
  }
  onExit(() => releaseFolder(folder));
  for (const file of plan.files) fs.writeFileSync(file.path, file.text);

  const supervisor = new Supervisor({
    plan,
    engine: options.engine,
    reporter,
    logsDir: shortPath(options.logsDir),
    showLogs: options.showLogs,
    graceMs: STOP_GRACE_MS,
    moderationDelayMs: options.moderationDelayMs,
    storage: `${shortPath(dataFolderOf(options))}/`,
  });
  const control = createControlServer(supervisor);
  try {
    await listenOnLoopback(control, options.controlPort);
  } catch (error) {
    return fail(`the control API cannot listen on 127.0.0.1:${options.controlPort}: ${error instanceof Error ? error.message : String(error)}`);
  }

  // The signals a person sends (Ctrl+C, kill, a closed terminal): everything stops in order, then this exits.
  const exitCode = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      control.close();
      control.closeAllConnections();
      void supervisor.stopAll(signal).then(() => resolve(0));
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  });
  // Any other way out (an uncaught error, another fatal signal, process.exit): signal-exit runs this
  // on the way, so no process outlives the supervisor. It cannot wait, so it sends SIGKILL: a SIGTERM
  // is not enough once the supervisor is gone, because a service whose output pipe has lost its reader
  // never finishes its clean stop (its logger's final flush retries the failed write forever). The
  // services are built to be killed at any moment; their log on disk is the truth.
  onExit(() => supervisor.signalAllNow('SIGKILL'));

  await supervisor.startAll();
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
