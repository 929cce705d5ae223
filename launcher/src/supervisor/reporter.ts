import type { EngineName, SupervisedName } from './plan';
import type { StateChange } from './supervisedProcess';

/** What is said once every process is ready. */
export interface RunSummary {
  engine: EngineName;
  /** From the supervisor's start to the last process ready. */
  seconds: number;
  processes: { name: SupervisedName; url: string }[];
  controlUrl: string;
  /** Where the embedded bus keeps its log, or NATS its store, as a person would look for it. */
  storage: string;
  /** The folder of the processes' log files. */
  logsDir: string;
  /** Whether the processes' own output is shown on the terminal too. */
  logsShown: boolean;
  /** The supervisor's own pid: a SIGTERM or SIGINT to it stops everything. */
  pid: number;
}

/** A reason the supervisor cannot run, with anything a program reading JSON needs beside the message. */
export interface Problem {
  message: string;
  [detail: string]: unknown;
}

/**
 * Everything the supervisor tells the person (or program) that started it: one line per state change,
 * a summary when all are ready, the processes' own lines when asked for, and why it cannot run.
 */
export interface Reporter {
  processChanged(change: StateChange): void;
  allReady(summary: RunSummary): void;
  log(name: SupervisedName, line: string): void;
  stopping(signal: string): void;
  stopped(): void;
  problem(problem: Problem): void;
}

export interface Outputs {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  now?: () => Date;
}

/** For a program reading the output: one JSON object per line, each with its time and its type. */
export class JsonReporter implements Reporter {
  constructor(private readonly outputs: Outputs) {}

  processChanged(change: StateChange): void {
    this.write({ type: 'process', ...change });
  }

  allReady({ engine, seconds, processes, controlUrl, storage, logsDir, pid }: RunSummary): void {
    const urls = Object.fromEntries(processes.map(({ name, url }) => [name, url]));
    this.write({ type: 'ready', engine, seconds, urls, control: controlUrl, storage, logs: logsDir, pid });
  }

  log(name: SupervisedName, line: string): void {
    this.write({ type: 'log', name, line });
  }

  stopping(signal: string): void {
    this.write({ type: 'stopping', signal });
  }

  stopped(): void {
    this.write({ type: 'stopped' });
  }

  problem(problem: Problem): void {
    this.write({ type: 'error', ...problem }, this.outputs.err);
  }

  private write(record: Record<string, unknown>, stream = this.outputs.out): void {
    stream.write(`${JSON.stringify({ time: (this.outputs.now?.() ?? new Date()).toISOString(), ...record })}\n`);
  }
}

const NAME_WIDTH = 10;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const clip = (line: string, width = 160) => (line.length > width ? `${line.slice(0, width - 1)}…` : line);

/** The lines a person reads for one state change (an exit with a code adds the process's last output, unless its logs are on screen). */
export function describeChange(change: StateChange, logsShown: boolean): string[] {
  const name = change.name.padEnd(NAME_WIDTH);
  switch (change.state) {
    case 'starting':
      return [`  ${name} starting (pid ${change.pid ?? '?'}${change.restarts > 0 ? `, restart ${change.restarts}` : ''})`];
    case 'ready':
      return [`✓ ${name} ready at ${change.url}`];
    case 'crashed': {
      const exit = change.exit;
      const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with code ${exit?.code ?? '?'}`;
      const head = `✗ ${name} ${how}${exit ? ` after ${seconds(exit.ranMs)}` : ''}`;
      // A process that exited by itself usually said why; one killed by a signal did not get to.
      return logsShown || !exit || exit.signal ? [head] : [head, ...exit.lastOutput.map((line) => `      │ ${clip(line)}`)];
    }
    case 'backing-off':
      return [`↻ ${name} restarting in ${seconds(change.restartInMs ?? 0)}`];
    case 'stopping':
      return [`  ${name} stopping`];
    case 'stopped':
      return [`■ ${name} stopped`];
    default:
      return assertNever(change.state);
  }
}

/** The block printed once everything is ready: the URLs to open and what to run next. */
export function describeSummary(summary: RunSummary): string[] {
  const url = (name: SupervisedName) => summary.processes.find((process) => process.name === name)?.url;
  const services = summary.processes.filter((process) => process.name !== 'nats');
  const engine = summary.engine === 'nats' ? `NATS JetStream at ${url('nats')} (the bus is its HTTP gateway)` : 'the embedded bus';
  const lines = [
    '',
    `All ${services.length} services ready in ${summary.seconds.toFixed(1)} s.`,
    `  Event engine:      ${engine}, its data in ${summary.storage}`,
  ];
  if (url('client')) lines.push(`  Open the app:      ${url('client')}`);
  if (url('query')) lines.push(`  Read the view:     curl ${url('query')}/posts`);
  const bus = url('event-bus');
  if (bus) lines.push(`  Bus subscribers:   npm run status${bus === 'http://localhost:4005' ? '' : ` -- --bus-url ${bus}`}`);
  lines.push(`  Processes:         curl ${summary.controlUrl}/processes`);
  lines.push(
    summary.logsShown
      ? `  Service logs:      shown here, and in ${summary.logsDir}/<service>.log`
      : `  Service logs:      ${summary.logsDir}/<service>.log (npm start -- --logs shows them here)`,
  );
  lines.push(`  Stop everything:   Ctrl+C (or kill ${summary.pid}); a process that crashes is restarted by itself`, '');
  return lines;
}

/** For a person at a terminal: a time, a mark and a few words per change. */
export class TextReporter implements Reporter {
  constructor(
    private readonly outputs: Outputs,
    private readonly logsShown: boolean,
  ) {}

  processChanged(change: StateChange): void {
    const time = this.time();
    for (const line of describeChange(change, this.logsShown)) this.outputs.out.write(`${time} ${line}\n`);
  }

  allReady(summary: RunSummary): void {
    this.outputs.out.write(`${describeSummary(summary).join('\n')}\n`);
  }

  log(name: SupervisedName, line: string): void {
    this.outputs.out.write(`${this.time()} [${name}] ${line}\n`);
  }

  stopping(signal: string): void {
    this.outputs.out.write(`\n${this.time()} ${signal}: stopping everything (SIGTERM to each process, SIGKILL if it is still there after the grace period)\n`);
  }

  stopped(): void {
    this.outputs.out.write(`${this.time()} Everything stopped.\n`);
  }

  problem(problem: Problem): void {
    this.outputs.err.write(`${problem.message}\n`);
  }

  private time(): string {
    return (this.outputs.now?.() ?? new Date()).toTimeString().slice(0, 8);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected state ${String(value)}`);
}
