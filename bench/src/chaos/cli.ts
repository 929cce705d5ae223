import { parseArgs } from 'node:util';
import { formatSummary, runChaos } from './chaosRun';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    duration: { type: 'string', default: '60' },
    clients: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} must be a positive whole number, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<number> {
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInt('seed', values.seed);
  console.error(`chaos seed ${seed} (replay with --seed ${seed})`);
  const summary = await runChaos({
    seed,
    durationSeconds: positiveInt('duration', values.duration),
    clients: positiveInt('clients', values.clients),
    killGapMs: [500, 4000],
    downMs: [100, 3000],
    convergeTimeoutSeconds: 120,
    onKill: (service, downMs) => console.error(`${new Date().toISOString()} kill -9 ${service}, down for ${downMs} ms`),
  });
  console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  return summary.verdict.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
