import { formatSummary, runChaos } from '../../bench/src/chaos/chaosRun';
import { SERVICE_NAMES } from '../support/localSystem';

/** CI runs a short round; CHAOS_SECONDS and CHAOS_SEED make it longer or replay a failure. */
const seconds = Number(process.env.CHAOS_SECONDS ?? 40);
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));

jest.setTimeout((seconds + 240) * 1000);

it(`when services are killed at random (seed ${seed}), then every acknowledged write ends up once in the view, and nothing else, forgeries included; the keyed clients' writes all land, once`, async () => {
  console.log(`chaos seed ${seed}: replay with CHAOS_SEED=${seed} npm run test:chaos`);

  const summary = await runChaos({
    seed,
    durationSeconds: seconds,
    clients: 4,
    keyedClients: 4,
    killGapMs: [300, 2500],
    downMs: [100, 2500],
    convergeTimeoutSeconds: 90,
    credentials: true,
  });

  console.log(formatSummary(summary));
  expect(summary.verdict.problems).toEqual([]);
  expect(summary.convergeSeconds).not.toBeNull();
  // The run must have been a real test: writes acknowledged, and every service killed at least once.
  expect(summary.requests.acknowledged).toBeGreaterThan(100);
  // The clients that send a key and retry as the page does get every write in, once: none refused, none
  // left unanswered, none stored twice, none lost (the clients without keys are counted beside them).
  expect(summary.keyedRequests).toMatchObject({ refused: 0, unanswered: 0, duplicated: 0, lost: 0 });
  expect(summary.keyedRequests!.acknowledged).toBeGreaterThan(100);
  // Least privilege held through the kills: forged publishes were tried all along, and each was refused.
  expect(summary.forgeries!.refused).toBeGreaterThan(20);
  expect(summary.forgeries!.stored).toBe(0);
  for (const name of SERVICE_NAMES) expect(summary.kills[name]).toBeGreaterThanOrEqual(1);
});
