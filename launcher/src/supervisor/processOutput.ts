import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

const KEPT_LINES = 20;

/**
 * What one supervised process prints, across its restarts: all of it appended to its log file
 * (`logs/<name>.log`, emptied when the supervisor starts), each whole line passed to `echo` when the
 * logs are shown on the terminal, and the last lines kept in memory to explain a crash.
 */
export class ProcessOutput {
  private readonly file: fs.WriteStream;
  private readonly recent: string[] = [];
  private failed = false;

  constructor(
    readonly filePath: string,
    private readonly echo: ((line: string) => void) | null,
  ) {
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
      if (!this.failed) this.file.write(chunk);
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
    if (!this.failed) this.file.write(`${line}\n`);
    this.line(line);
  }

  /** The last lines printed, oldest first. */
  lastLines(count = 3): string[] {
    return this.recent.slice(-count);
  }

  /**
   * The last lines that say something about why it ended: a Node crash ends with its stack's frames and
   * the Node version, which say nothing a person needs, so those are skipped.
   */
  lastWords(count = 3): string[] {
    const noise = /^\s+at |^Node\.js v\d|^\s*\^+\s*$/;
    return this.recent.filter((line) => !noise.test(line)).slice(-count);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(resolve));
  }

  private line(line: string): void {
    const text = line.replace(/\r$/, '');
    if (text.trim() === '') return;
    this.recent.push(text);
    if (this.recent.length > KEPT_LINES) this.recent.shift();
    this.echo?.(text);
  }
}
