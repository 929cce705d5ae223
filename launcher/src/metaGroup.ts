import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsNode } from './natsCluster';

/** How long a fresh cluster's servers get to join the JetStream meta group before the ones left out are restarted. */
const JOIN_WAIT_MS = 5_000;
const RESTARTS = 2;

/** One server of a NATS cluster: its server name, where its monitoring port answers now, and how to restart it. */
export interface ClusterMember {
  name: string;
  monitorUrl: () => string;
  restart: () => Promise<void>;
}

interface MetaCluster {
  leader?: string;
  replicas?: { name: string }[];
}

/** The servers the meta leader does not count in its group; null while no server says it leads. */
async function leftOut(members: ClusterMember[]): Promise<ClusterMember[] | null> {
  const metas = await Promise.all(
    members.map(async (member) => {
      try {
        const answer = await fetch(`${member.monitorUrl()}/jsz`, { signal: AbortSignal.timeout(1_000) });
        return ((await answer.json()) as { meta_cluster?: MetaCluster }).meta_cluster ?? null;
      } catch {
        return null;
      }
    }),
  );
  const leader = metas.find((meta, index) => meta?.leader === members[index]!.name);
  if (!leader) return null;
  const inGroup = new Set([leader.leader, ...(leader.replicas ?? []).map((replica) => replica.name)]);
  return members.filter((member) => !inGroup.has(member.name));
}

/**
 * Waits until JetStream's meta group holds every server of a freshly started cluster, restarting one it
 * leaves out. A fresh 3-server cluster whose clients log in (its users file) came up here in 7 of 85
 * starts (nats-server 2.10.27) with one server healthy but outside the meta group for good (`/jsz` on
 * the leader: cluster_size 2): no stream of three copies can be placed then ("no suitable peers for
 * placement") and nothing of the blog starts. One restart of that server brought it in every time.
 */
export async function joinWholeMetaGroup(members: ClusterMember[]): Promise<void> {
  if (members.length < 2) return;
  for (let restarts = 0; ; restarts += 1) {
    const deadline = Date.now() + JOIN_WAIT_MS;
    let missing = await leftOut(members);
    while ((missing === null || missing.length > 0) && Date.now() < deadline) {
      await sleep(200);
      missing = await leftOut(members);
    }
    if (missing?.length === 0) return;
    if (missing === null || restarts === RESTARTS) {
      throw new Error(missing === null ? 'no NATS server says it leads the JetStream meta group' : `the JetStream meta group leaves out ${missing.map((member) => member.name).join(', ')}, restarted ${RESTARTS} times`);
    }
    for (const member of missing) await member.restart();
  }
}

/** Starts the tests' own servers of a cluster, and waits until they make one meta group. */
export async function startNatsCluster(nodes: NatsNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.start()));
  await joinWholeMetaGroup(
    nodes.map((node) => ({
      name: node.name,
      monitorUrl: () => `http://127.0.0.1:${node.ports.monitor}`,
      restart: () => node.restart('SIGTERM'),
    })),
  );
}
