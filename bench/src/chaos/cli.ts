/** The chaos runs: `npm run chaos -- --help` prints what they do and their options (USAGE below). */
import { SERVICE_NAMES } from '@blog/launcher';
import { positiveWholeOption, readCommandLine, refuseOption } from '@blog/service-kit';
import { formatSummary, runChaos, type KillTarget } from './chaosRun';
import { formatNodeDown, runNodeDown } from './nodeDown';

const USAGE = `usage: npm run chaos -- [--duration S] [--seed N] [--clients N] [--keyed-clients N] [--kill a,b] [--engine embedded|nats] [--nats-nodes N] [--replicas N] [--no-credentials] [--json]
       npm run chaos -- --node-down [--seed N] [--json]

--clients write without keys, each write sent once; --keyed-clients send an Idempotency-Key and retry
as the page does (no answer, 409, 502, 503, 504: the same key again, for about a minute). The summary
counts the two side by side: refused, unanswered, duplicated and lost. --kill names what is killed
(services, and nats for a NATS server; default: all of them, in shuffled rounds).

--node-down: on NATS (three servers, two processes of each service), one server killed and kept down,
then replaced by one with an empty store, then another frozen for 15 s, with comments written all
along; prints how long each acknowledged comment took to be final on every query replica, and whether
any replica said ready while it lacked what the log held more than the grace before.

With --engine nats: a NATS cluster of --nats-nodes servers (default 3) and --replicas processes of each
service (default 2); each round kills one replica of every service and one NATS server. Every process
has its own credential, as in Kubernetes, and a forger publishes with them what they do not own;
--no-credentials runs without (as npm start does).`;

const values = readCommandLine(USAGE, {
  options: {
    seed: { type: 'string' },
    duration: { type: 'string', default: '60' },
    clients: { type: 'string', default: '4' },
    'keyed-clients': { type: 'string', default: '4' },
    kill: { type: 'string' },
    json: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'embedded' },
    'nats-nodes': { type: 'string', default: '3' },
    replicas: { type: 'string', default: '2' },
    credentials: { type: 'boolean', default: true },
    'node-down': { type: 'boolean', default: false },
  },
  allowNegative: true,
});

function engineOption(raw: string): 'embedded' | 'nats' {
  if (raw === 'embedded' || raw === 'nats') return raw;
  refuseOption(`--engine must be embedded or nats, not "${raw}"`);
}

const KILLABLE = [...SERVICE_NAMES, 'nats'] as const;

function killTargets(raw: string | undefined): KillTarget[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(KILLABLE as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) refuseOption(`--kill takes a comma-separated list of ${KILLABLE.join(', ')}, not "${raw}"`);
  return names as KillTarget[];
}

async function main(): Promise<number> {
  const targets = killTargets(values.kill);
  const engine = engineOption(values.engine);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveWholeOption('seed', values.seed);
  console.error(`chaos seed ${seed} (replay with --seed ${seed})`);
  if (values['node-down']) {
    const run = await runNodeDown({ seed, commentsPerRound: 60, ratePerSecond: 10, settleSeconds: 45, say: (message) => console.error(`${new Date().toISOString()} ${message}`) });
    console.log(values.json ? JSON.stringify(run, null, 2) : formatNodeDown(run));
    return run.rounds.every((round) => round.notFinal === 0 && round.lies.length === 0) ? 0 : 1;
  }
  const summary = await runChaos({
    seed,
    durationSeconds: positiveWholeOption('duration', values.duration),
    clients: positiveWholeOption('clients', values.clients),
    keyedClients: values['keyed-clients'] === '0' ? 0 : positiveWholeOption('keyed-clients', values['keyed-clients']),
    targets,
    killGapMs: [500, 4000],
    downMs: [100, 3000],
    convergeTimeoutSeconds: 120,
    engine,
    natsNodes: positiveWholeOption('nats-nodes', values['nats-nodes']),
    replicas: positiveWholeOption('replicas', values.replicas),
    credentials: values.credentials,
    onKill: (target, downMs) => console.error(`${new Date().toISOString()} kill -9 ${target}, down for ${downMs} ms`),
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
