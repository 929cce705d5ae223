import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsNode } from './natsCluster';

/** How long a fresh cluster's servers get to join the JetStream meta group before the ones left out are restarted. */
const JOIN_WAIT_MS = 5_000;
const RESTARTS = 2;

interface MetaCluster {
  leader?: string;
  replicas?: { name: string }[];
}

/** The servers the meta leader does not count in its group; null while no server says it leads. */
async function leftOut(nodes: NatsNode[]): Promise<NatsNode[] | null> {
  const metas = await Promise.all(
    nodes.map(async (node) => {
      try {
        const answer = await fetch(`http://127.0.0.1:${node.ports.monitor}/jsz`, { signal: AbortSignal.timeout(1_000) });
        return ((await answer.json()) as { meta_cluster?: MetaCluster }).meta_cluster ?? null;
      } catch {
        return null;
      }
    }),
  );
  const leader = metas.find((meta, index) => meta?.leader === nodes[index]!.name);
  if (!leader) return null;
  const members = new Set([leader.leader, ...(leader.replicas ?? []).map((replica) => replica.name)]);
  return nodes.filter((node) => !members.has(node.name));
}

/**
 * Starts the servers of a cluster and waits until JetStream's meta group holds every one of them. A fresh
 * 3-server cluster whose clients log in (its users file) came up here about 1 start in 25 (nats-server
 * 2.10.27) with one server healthy but left out of the meta group for good (`/jsz` on the leader:
 * cluster_size 2): no stream of three replicas can be placed then ("no suitable peers for placement") and
 * nothing of the blog starts. Restarting the server left out brought it in every time it was tried.
 */
export async function startNatsCluster(nodes: NatsNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.start()));
  if (nodes.length < 2) return;
  for (let restarts = 0; ; restarts += 1) {
    const deadline = Date.now() + JOIN_WAIT_MS;
    let missing = await leftOut(nodes);
    while ((missing === null || missing.length > 0) && Date.now() < deadline) {
      await sleep(200);
      missing = await leftOut(nodes);
    }
    if (missing?.length === 0) return;
    if (missing === null || restarts === RESTARTS) {
      throw new Error(missing === null ? 'no NATS server says it leads the JetStream meta group' : `the JetStream meta group leaves out ${missing.map((node) => node.name).join(', ')}, restarted ${RESTARTS} times`);
    }
    for (const node of missing) {
      await node.stop('SIGTERM');
      await node.start();
    }
  }
}
