import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A program's options, read as a person expects of a command: `--help` (or `-h`) prints its usage and
 * exits 0; an unknown option, a missing value or a stray argument prints one line that names it and
 * exits 2, never Node's stack trace.
 */
export function readCommandLine<T extends ParseArgsConfig>(usage: string, config: T, args = process.argv.slice(2)): ReturnType<typeof parseArgs<T>>['values'] {
  if (wantsHelp(args)) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ ...config, args, strict: true }).values;
  } catch (error) {
    refuseOption(commandLineProblem(error));
  }
}

export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** The first sentence of parseArgs' complaint ("Unknown option '--x'"), or the message itself. */
export function commandLineProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('. ')[0]!.replace(/\.$/, '');
}

/** Ends the program as a wrong option does: one line that says what is wrong, exit 2. */
export function refuseOption(message: string): never {
  console.error(`${message}; --help lists the options`);
  process.exit(2);
}

/** An option's value as a whole number above zero, or the program ends saying it is not one. */
export function positiveWholeOption(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) refuseOption(`--${name} must be a positive whole number, not "${raw}"`);
  return value;
}
