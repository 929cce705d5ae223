/** `npm run nats:repair`: mends a NATS events stream that lost acknowledged events, and says which (USAGE). */
import fs from 'node:fs';
import path from 'node:path';
import { rangeText } from '@blog/contracts';
import { NatsConnector, natsOptionsFrom, readCommandLine, repairStream, saveStream, type StreamRepairReport } from '@blog/service-kit';
import { loadConfig } from './config';

const LOCAL_NATS = 'nats://127.0.0.1:4222';

const USAGE = `usage: npm run nats:repair -- [--save-dir DIR] [--store-dir DIR] [--json]
  mends the NATS events stream when a server came back with acknowledged events missing from its store
  (the services then report damaged on /readyz and refuse to publish), and says exactly what was lost.
  Connects as the event-bus gateway does: NATS_URL, NATS_USER, NATS_PASSWORD (unset NATS_URL: the local
  npm run start:nats server)
  --save-dir   where a copy of the kept events goes first (default data/)
  --store-dir  the local server's store (default data/nats/, or NATS_STORE_DIR): a folder that is not
               there is "no store here"; a store deleted under the running server is said and saved
  --json       the report as JSON
exit 0 when the stream is whole or was repaired, 1 when it could not be repaired`;

function describe(report: StreamRepairReport): string {
  if (report.outcome === 'sound') return 'The NATS events stream holds every event its consumers were handed: nothing to repair, nothing changed.';
  const lines = ['The NATS events stream was damaged:', ...report.problems.map((problem) => `  - ${problem}`), ''];
  lines.push(`Lost ${report.lostCount} acknowledged event${report.lostCount === 1 ? '' : 's'}: seq ${report.lost.map(rangeText).join(', ')}.`);
  lines.push('  Their contents went with the damaged store; their seqs will never be used again.');
  if (report.movedFrom && report.movedTo) {
    lines.push(`Kept ${report.kept} events, in their order, now at seq ${rangeText(report.movedTo)} (they were at ${rangeText(report.movedFrom)}).`);
  } else lines.push('Kept no events: the stream held none.');
  lines.push(`A copy of the kept events, written before anything changed: ${report.savedTo}`);
  for (const consumer of report.consumers) lines.push(`Consumer ${consumer.name} goes on from seq ${consumer.startsAt}: it handles each kept event again, so what it answered with and was lost (a verdict) is made again.`);
  lines.push(
    `The next event will be seq ${report.nextSeq}. Restart the services (npm start again, or kubectl rollout restart deployment)`,
    'so their views are rebuilt from the repaired stream; until then a running one still shows what was lost.',
  );
  return lines.join('\n');
}

async function main(): Promise<number> {
  const values = readCommandLine(USAGE, { options: { 'save-dir': { type: 'string' }, 'store-dir': { type: 'string' }, json: { type: 'boolean', default: false } } });
  const config = loadConfig({ NATS_URL: LOCAL_NATS, ...process.env });
  const from = process.env.INIT_CWD ?? process.cwd();
  const saveDir = path.resolve(from, values['save-dir'] ?? 'data');
  // The local server's store (npm run start:nats): only it can be looked at from here.
  const local = process.env.NATS_URL === undefined || values['store-dir'] !== undefined;
  const storeDir = path.resolve(from, values['store-dir'] ?? process.env.NATS_STORE_DIR ?? path.join('data', 'nats'));
  if (local && !fs.existsSync(storeDir)) {
    console.error(`No store here: ${storeDir} does not exist. Give the local server's store with --store-dir DIR (npm run start:nats keeps it in data/nats/).`);
    return 1;
  }
  const connector = new NatsConnector(natsOptionsFrom(config, 'nats-repair'));
  try {
    const link = await connector.connected();
    if (local && !fs.existsSync(path.join(storeDir, 'jetstream'))) {
      const { kept, savedTo } = await saveStream(link, saveDir, config.BUS_TIMEOUT_MS);
      console.error(
        [
          `The store ${path.join(storeDir, 'jetstream')} was deleted under the running nats-server: its ${kept} events are only in its memory now, and go when it stops.`,
          `A copy of them is in ${savedTo}.`,
          'Nothing was changed. Stop npm run start:nats, keep that copy, and start again: the server starts empty, and the services rebuild their views from it.',
        ].join('\n'),
      );
      return 1;
    }
    const report = await repairStream(link, saveDir, config.BUS_TIMEOUT_MS);
    console.log(values.json ? JSON.stringify(report, null, 2) : describe(report));
    return 0;
  } catch (error) {
    console.error(`Could not repair the NATS events stream at ${config.NATS_URL.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await connector.close();
  }
}

void main().then((code) => {
  process.exitCode = code;
});
