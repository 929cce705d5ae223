/** Reading what the supervisor prints when piped: one JSON object per line (other lines, such as npm's and the build's, are skipped). */
export interface SupervisorRecord {
  time: string;
  type: 'process' | 'ready' | 'log' | 'stopping' | 'stopped' | 'error';
  name?: string;
  state?: string;
  pid?: number | null;
  restarts?: number;
  restartInMs?: number;
  exit?: { code: number | null; signal: string | null; pid: number | null; lastOutput: string[] };
  engine?: string;
  urls?: Record<string, string>;
  control?: string;
  message?: string;
  line?: string;
  ports?: { port: number; wantedBy: string; find: string }[];
}

export function supervisorRecords(output: string): SupervisorRecord[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as SupervisorRecord];
      } catch {
        return [];
      }
    });
}

/** The process records of one process, in order. */
export function changesOf(output: string, name: string): SupervisorRecord[] {
  return supervisorRecords(output).filter((record) => record.type === 'process' && record.name === name);
}

/** The record saying every process is ready, once there is one. */
export function readyRecord(output: string): SupervisorRecord | undefined {
  return supervisorRecords(output).find((record) => record.type === 'ready');
}
