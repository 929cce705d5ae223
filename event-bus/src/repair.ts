/** `npm run bus:repair`: repairs the embedded bus's damaged log and says what was lost (USAGE). */
import fs from 'node:fs';
import path from 'node:path';
import { readCommandLine } from '@blog/service-kit';
import { loadConfig } from './config';
import { rangeText } from '@blog/contracts';
import { highWaterPath } from './store/sqlite/highWater';
import { repairLog, type RepairReport } from './store/sqlite/logRepair';

const USAGE = `usage: npm run bus:repair -- [--data-dir DIR] [--json]
  repairs the embedded bus's event log when its start-up check found it damaged, and says exactly what
  was lost; refuses a log a running bus holds
  --data-dir  the log's folder (default: DATA_DIR, read as the bus reads it)
  --json      the report as JSON
exit 0 when the log is sound or was repaired, 1 when it could not be repaired`;

function describe(report: RepairReport, dataDir: string): string {
  if (report.outcome === 'sound') return `The event log in ${dataDir} passes the bus's check: nothing to repair, nothing changed.`;
  const lines = [`The event log in ${dataDir} was damaged:`, ...report.problems.map((problem) => `  - ${problem}`), ''];
  lines.push(`Kept ${report.kept} events, each at its own seq.`);
  if (report.lostCount === 0) lines.push('Lost nothing.');
  else {
    lines.push(`Lost ${report.lostCount} acknowledged event${report.lostCount === 1 ? '' : 's'}: seq ${report.lost.map(rangeText).join(', ')}.`);
    for (const event of report.lostDetails.filter((lost) => lost.type || lost.id)) lines.push(`  seq ${event.seq}: ${event.type ?? '?'} ${event.id ?? ''}`.trimEnd());
    lines.push(
      '  These seqs stay recorded as lost, and no new event will reuse them. Services that applied them keep',
      '  them until they restart; after that, the view lacks them (a post or comment written then is gone).',
    );
  }
  lines.push(`Subscriber positions kept: ${report.positionsKept}; dead letters kept: ${report.deadLettersKept}.`);
  if (report.movedTo) lines.push(`The damaged files are in ${report.movedTo}.`);
  lines.push(`The next event will be seq ${report.nextSeq}. Start the bus (a waiting bus takes the repaired log up by itself).`);
  return lines.join('\n');
}

function main(): number {
  const values = readCommandLine(USAGE, { options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } });
  const dataDir = path.resolve(values['data-dir'] ?? loadConfig().DATA_DIR);
  // A folder mistyped, or never used: nothing to check, and nothing to make there.
  if (!fs.existsSync(path.join(dataDir, 'events.db')) && !fs.existsSync(highWaterPath(dataDir))) {
    console.error(`No store here: ${dataDir} holds no event log (no events.db). Give the bus's DATA_DIR, or --data-dir DIR.`);
    return 1;
  }
  try {
    const report = repairLog(dataDir);
    console.log(values.json ? JSON.stringify(report, null, 2) : describe(report, dataDir));
    return 0;
  } catch (error) {
    console.error(`Could not repair the event log in ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = main();
