import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

const KEPT_LINES = 20;

/** A line kept in memory; a run of lines alike but for their numbers is one, with how many more there were. */
interface KeptLine {
  text: string;
  shape: string;
  more: number;
}

/**
 * What one process prints, across its restarts: all of it appended to its log file, if it has one
 * (`logs/<name>.log` under the supervisor, emptied when it starts), each whole line passed to `echo` when
 * the logs are shown on the terminal, and the last lines kept in memory to explain a crash or a process
 * that never became ready. Lines that differ only in their numbers (a server logging every failed health
 * probe with its time) are kept as the newest of them and a count, so they cannot push out the lines
 * before them that say why.
 */
export class ProcessOutput {
  private readonly file: fs.WriteStream | null;
  private readonly recent: KeptLine[] = [];
  private failed = false;

  constructor(
    readonly filePath: string | null,
    private readonly echo: ((line: string) => void) | null,
    private readonly keptLines = KEPT_LINES,
  ) {
    if (filePath === null) {
      this.file = null;
      return;
    }
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    this.file = fs.createWriteStream(filePath, { flags: 'w' });
    // A full disk must not take the supervisor down with it: the lines still reach the terminal and the crash report.
    this.file.on('error', () => {
      this.failed = true;
    });
  }

  /** Takes one of the process's output streams; each stream has its own unfinished line. */
  attach(stream: Readable): void {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      if (!this.failed) this.file?.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    });
    stream.on('end', () => {
      if (partial) this.line(partial);
      partial = '';
    });
  }

  /** A line from the supervisor itself about this process (it could not be started), kept like its own. */
  note(line: string): void {
    if (!this.failed) this.file?.write(`${line}\n`);
    this.line(line);
  }

  /** The last `count` lines printed, oldest first; a line that came again and again is followed by its count. */
  lastLines(count = 3): string[] {
    return this.recent.slice(-count).flatMap(({ text, more }) => (more > 0 ? [text, `(the line above came ${more + 1} times, differing only in its numbers)`] : [text]));
  }

  /**
   * The last lines that say something about why it ended: a Node crash ends with its stack's frames and
   * the Node version, which say nothing a person needs, so those are skipped.
   */
  lastWords(count = 3): string[] {
    const noise = /^\s+at |^Node\.js v\d|^\s*\^+\s*$|^\(the line above came /;
    return this.lastLines(this.keptLines).filter((line) => !noise.test(line)).slice(-count);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file ? this.file.end(resolve) : resolve()));
  }

  private line(line: string): void {
    const text = line.replace(/\r$/, '');
    if (text.trim() === '') return;
    this.echo?.(text);
    const shape = text.replace(/\d+/g, '#');
    const last = this.recent.at(-1);
    if (last?.shape === shape) {
      last.text = text;
      last.more += 1;
      return;
    }
    this.recent.push({ text, shape, more: 0 });
    if (this.recent.length > this.keptLines) this.recent.shift();
  }
}
