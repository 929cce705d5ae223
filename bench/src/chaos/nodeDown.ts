import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import { LocalSystem, type NatsNode } from '@blog/launcher';
import { SeededRandom } from './random';
import { ReplicaSampler, type Acknowledged, type ReadinessLie } from './replicaSampler';

/**
 * A NATS server lost for good, from outside: the 3-server cluster with two processes of every service
 * (as `infra/scale` runs it), one server SIGKILLed and kept down while comments are written through both
 * comments replicas; then a server with an empty store (a replaced machine) in its place, and more
 * comments; then one server frozen (SIGSTOP) and thawed. Each query replica is watched as a reader would
 * (ReplicaSampler): how long each acknowledged comment takes to be final on it, and whether it ever said
 * ready while it lacked what the log held more than the grace before.
 */
export interface NodeDownOptions {
  seed: number;
  commentsPerRound: number;
  ratePerSecond: number;
  /** Longest wait, after a round's last write, for every comment to be final on every replica. */
  settleSeconds: number;
  say?: (message: string) => void;
}

export interface RoundFigures {
  round: string;
  acknowledged: number;
  /** Writes not answered 201, by status. */
  refused: Record<string, number>;
  /** ms from a comment's acknowledgement to its final status on a replica, over every (comment, replica). */
  catchUpMs: { median: number; worst: number } | null;
  /** Share of (comment, replica) pairs final within 5 s of the acknowledgement. */
  within5s: number;
  notFinal: number;
  lies: ReadinessLie[];
  /** Per query replica: how many samples answered ready and not ready. */
  readiness: Record<string, { ready: number; notReady: number }>;
  /** Per query replica, its last view of the round's comments: how many in each status. */
  lastSeen: Record<string, Record<string, number>>;
}

export interface NodeDownSummary {
  seed: number;
  killed: string;
  rounds: RoundFigures[];
}

function spread(values: number[]): { median: number; worst: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, worst: sorted.at(-1)! };
}

/** Writes comments at a steady rate through every comments replica in turn, while the sampler watches. */
async function writeRound(system: LocalSystem, postId: string, label: string, options: NodeDownOptions, random: SeededRandom, during?: () => Promise<void>): Promise<RoundFigures> {
  const acknowledged: Acknowledged[] = [];
  const refused: Record<string, number> = {};
  const sampler = new ReplicaSampler(system.urls('query'), () => acknowledged);
  sampler.start();
  const writers = system.urls('comments');
  const writing = (async () => {
    for (let index = 0; index < options.commentsPerRound; index += 1) {
      const content = random.chance(0.2) ? `an orange, ${label} #${index}` : `${label} #${index}`;
      const url = `${writers[index % writers.length]!}/posts/${postId}/comments`;
      const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content }), signal: AbortSignal.timeout(20_000) }).catch((error: Error) => error);
      if (answer instanceof Error) refused[answer.name] = (refused[answer.name] ?? 0) + 1;
      else if (answer.status === 201) acknowledged.push({ id: ((await answer.json()) as { id: string }).id, content, ackAt: Date.now() });
      else refused[String(answer.status)] = (refused[String(answer.status)] ?? 0) + 1;
      await sleep(1000 / options.ratePerSecond);
    }
  })();
  await Promise.all([writing, during?.()]);
  const deadline = Date.now() + options.settleSeconds * 1000;
  while (!sampler.allFinal() && Date.now() < deadline) await sleep(200);
  await sampler.stop();
  const times = sampler.catchUpTimes();
  return {
    round: label,
    acknowledged: acknowledged.length,
    refused,
    catchUpMs: spread(times),
    within5s: times.length === 0 ? 0 : times.filter((ms) => ms <= 5_000).length / (acknowledged.length * system.urls('query').length),
    notFinal: sampler.notFinal(),
    lies: sampler.lies,
    readiness: Object.fromEntries(sampler.readiness),
    lastSeen: Object.fromEntries(sampler.lastSeen),
  };
}

/** Freezes a server with SIGSTOP for `ms`, then lets it go on. */
async function frozenFor(node: NatsNode, ms: number): Promise<void> {
  process.kill(node.pid!, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(node.pid!, 'SIGCONT');
  }
}

export async function runNodeDown(options: NodeDownOptions): Promise<NodeDownSummary> {
  const say = options.say ?? (() => undefined);
  const random = new SeededRandom(options.seed);
  const system = await LocalSystem.create({}, { engine: 'nats', natsNodes: 3, replicas: 2, credentials: true });
  try {
    await system.startAll();
    const post = await fetch(`${system.urls('posts')[0]!}/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'A node goes away' }) });
    const postId = ((await post.json()) as { id: string }).id;
    const rounds: RoundFigures[] = [];

    const victim = random.pick(system.nats);
    say(`SIGKILL ${victim.name}, kept down`);
    await victim.stop('SIGKILL');
    rounds.push(await writeRound(system, postId, 'one server down', options, random));

    say(`${victim.name} replaced by a server with an empty store`);
    fs.rmSync(path.join(system.dataDir, victim.name), { recursive: true, force: true });
    fs.mkdirSync(path.join(system.dataDir, victim.name), { recursive: true });
    // It is healthy once it holds every stream and consumer again, copied from its peers.
    await victim.start(90_000);
    rounds.push(await writeRound(system, postId, 'replaced with an empty store', options, random));

    const frozen = random.pick(system.nats);
    say(`SIGSTOP ${frozen.name} for 15 s while writing`);
    rounds.push(await writeRound(system, postId, `${frozen.name} frozen for 15 s`, options, random, () => frozenFor(frozen, 15_000)));
    return { seed: options.seed, killed: victim.name, rounds };
  } finally {
    await system.stopAll();
  }
}

export function formatNodeDown(summary: NodeDownSummary): string {
  const lines = [`node-down run, seed ${summary.seed}: ${summary.killed} killed`];
  for (const round of summary.rounds) {
    const refused = Object.entries(round.refused).map(([status, count]) => `${count} x ${status}`).join(', ') || 'none';
    const times = round.catchUpMs ? `median ${(round.catchUpMs.median / 1000).toFixed(2)} s, worst ${(round.catchUpMs.worst / 1000).toFixed(2)} s` : 'none final';
    lines.push(
      `  ${round.round}: ${round.acknowledged} acknowledged (refused: ${refused}); final on every query replica: ${times}; within 5 s: ${(round.within5s * 100).toFixed(0)}%; never final: ${round.notFinal}`,
      `    ready while lacking what the log held over the grace before: ${round.lies.length === 0 ? 'never' : round.lies.map((lie) => `${lie.replica} at ${lie.atMs} ms (${lie.missing} missing)`).join('; ')}`,
      `    readiness samples (ready/not): ${Object.entries(round.readiness).map(([replica, counts]) => `${replica.replace(/^http:\/\/127\.0\.0\.1:/, ':')} ${counts.ready}/${counts.notReady}`).join(', ')}`,
    );
    if (round.notFinal > 0) lines.push(`    last seen: ${JSON.stringify(round.lastSeen)}`);
  }
  return lines.join('\n');
}
