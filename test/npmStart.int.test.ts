import fs from 'node:fs';
import { heldPorts } from '../launcher/src/supervisor/portCheck';
import { getJson } from './support/blogApi';
import { CommandGroup } from './support/commandGroup';
import { readyRecord, supervisorRecords } from './support/supervisorOutput';
import { makeTempDir, removeTempDirs } from './support/tempDirs';
import { waitFor } from './support/waitFor';
import { alive } from './support/processes';

/**
 * `npm start` as a user runs it, stopped the ways a user stops it: a signal to the npm process alone
 * (`kill <pid>` from another terminal, or a process manager), SIGTERM or SIGINT. npm forwards it to
 * its child, which is the supervisor itself (the script `exec`s it), and afterwards nothing of the
 * system is left: no service pid, nothing in npm's process group, every port free. On ports of its own
 * (PORT_OFFSET), beside anything on the default ones.
 */
const OFFSET = 11_200;
const PORTS = [4005, 4000, 4001, 4003, 4002, 3000, 4100].map((port) => port + OFFSET);
jest.setTimeout(240_000);

/** The parent of a process, from /proc (Linux). */
const parentOf = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

/** Whether any process is left in the process group `pgid`. */
const groupAlive = (pgid: number) => alive(-pgid);

let command: CommandGroup | null = null;
afterEach(async () => {
  await command?.stop();
  command = null;
  removeTempDirs();
});

it.each(['SIGTERM', 'SIGINT'] as const)('when npm start gets %s, then everything stops and nothing of the system is left', async (signal) => {
  command = new CommandGroup();
  command.start('npm', ['start'], { PORT_OFFSET: String(OFFSET), DATA_DIR: makeTempDir('npm-start-data-'), LOGS_DIR: makeTempDir('npm-start-logs-') });
  const ready = await waitFor('npm start to be ready', () => readyRecord(command!.stdout), { timeoutMs: 200_000, intervalMs: 250 }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- npm start printed:\n${command!.output.slice(-3000)}`);
  });
  const { processes } = await getJson<{ processes: { name: string; pid: number }[] }>(`${ready.control}/processes`);
  const pids = processes.map((process) => process.pid);
  const supervisorPid = ready.pid!;
  expect(pids.every(alive)).toBe(true);
  // The supervisor is npm's own child: the script's shell replaced itself with it (exec), so no shell
  // sits between npm's forwarded signal and the supervisor.
  expect(parentOf(supervisorPid)).toBe(command.pid);

  command.signal(signal);
  const exit = await command.exited();

  expect(exit).toEqual({ code: 0, signal: null });
  expect(pids.filter(alive)).toEqual([]);
  expect(alive(supervisorPid)).toBe(false);
  expect(groupAlive(command.pid)).toBe(false);
  for (const pid of pids) expect(groupAlive(pid)).toBe(false);
  expect(await heldPorts(PORTS.map((port) => ({ port, wantedBy: 'the system' })))).toEqual([]);
  const records = supervisorRecords(command.stdout);
  expect(records.find((record) => record.type === 'stopping')).toMatchObject({ signal });
  expect(records[records.length - 1]).toMatchObject({ type: 'stopped' });
  // Stopped on request, so none was restarted on the way out.
  expect(records.filter((record) => record.type === 'process' && (record.state === 'crashed' || record.state === 'backing-off'))).toEqual([]);
});
