import { wholeView } from './wholeView';
import { busAuthHeaders } from '@blog/service-kit';
import { performance } from 'node:perf_hooks';
import { HttpClient } from './httpClient';
import { closedLoop, openLoop, type Sample } from './load';
import type { LocalSystem } from '@blog/launcher';
import { FinalStatusWatcher } from './updates';

export interface Targets {
  posts: string;
  /** Every process of comments: the load goes round them, as a Kubernetes Service spreads connections. */
  comments: string[];
  query: string;
  bus: string;
  /** The bus's token, when it has one (a running system started with BUS_TOKEN); sent to the bus only. */
  busToken?: string;
}

export interface PipelineOptions {
  count: number;
  concurrency: number;
  rate?: number;
  duration: number;
  posts: number;
  /** Comments sent and settled before measuring, so the figures describe warmed-up (JIT-compiled) code. */
  warmup: number;
  settleTimeoutMs: number;
  onProgress?: () => void;
}

export interface PipelineResult {
  samples: Sample[];
  loadSeconds: number;
  /** From the first request to the last accepted comment's final status in query. */
  settleSeconds: number;
  endToEndMs: number[];
  eventsStored: number;
  /** CPU seconds during the measured load and peak memory of every process: services, replicas, NATS servers. */
  usage: Record<string, { cpuSeconds: number; peakRssBytes: number }>;
  check: { accepted: number; refused: number; lost: number; duplicated: number; pending: number; wrongStatus: number };
}

/**
 * The moderation rule's expected verdict, written independently of moderation's code so the run (and the
 * tests that import it) check the service against the rule rather than against itself.
 */
export const expectedStatus = (content: string) => (/orange/i.test(content) ? 'rejected' : 'approved');
const contentFor = (index: number) => (index % 10 === 0 ? `bench comment ${index}: orange juice` : `bench comment ${index}: lovely`);

async function busLastSeq(busClient: HttpClient, busUrl: string): Promise<number> {
  const subscribers = await busClient.getJson<{ position: number; lag: number }[]>(`${busUrl}/subscribers`);
  return Math.max(0, ...subscribers.map((s) => s.position + s.lag));
}

async function createPosts(client: HttpClient, targets: Targets, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const created = await client.request('POST', `${targets.posts}/posts`, { title: `Bench post ${i}` });
    if (created.status !== 201) throw new Error(`creating a post answered ${created.status}: ${created.body}`);
    ids.push((JSON.parse(created.body) as { id: string }).id);
  }
  return ids;
}

function usageDelta(system: LocalSystem | null, before: PipelineResult['usage']): PipelineResult['usage'] {
  if (!system) return {};
  const after: PipelineResult['usage'] = {};
  for (const { name, process } of system.processes()) {
    const now = process.usage();
    if (now) after[name] = { cpuSeconds: now.cpuSeconds - (before[name]?.cpuSeconds ?? 0), peakRssBytes: now.peakRssBytes };
  }
  return after;
}

const commentsUrl = (targets: Targets, index: number) => targets.comments[index % targets.comments.length]!;

/** Creates posts, then comments through the comments service, and follows each to its final status. */
export async function runPipeline(targets: Targets, system: LocalSystem | null, options: PipelineOptions): Promise<PipelineResult> {
  const client = new HttpClient(Math.max(options.concurrency, 8));
  // Its own client, so the bus token goes to the bus only.
  const busClient = new HttpClient(1, busAuthHeaders(targets.busToken));
  const watcher = new FinalStatusWatcher(targets.query);
  await watcher.start();
  try {
    const postIds = await createPosts(client, targets, options.posts);
    if (options.warmup > 0) await warmUp(client, targets, watcher, postIds, options);
    const usageBefore = usageDelta(system, {});
    const seqBefore = await busLastSeq(busClient, targets.bus);

    const send = async (index: number) => {
      const postId = postIds[index % postIds.length]!;
      const result = await client.request('POST', `${commentsUrl(targets, index)}/posts/${postId}/comments`, { content: contentFor(index) });
      return { status: result.status, value: result.status === 201 ? (JSON.parse(result.body) as { id: string }).id : undefined };
    };
    const began = performance.now();
    const samples = options.rate
      ? await openLoop(options.rate, options.duration, send, options.onProgress)
      : await closedLoop(options.count, options.concurrency, send, options.onProgress);
    const loadSeconds = (performance.now() - began) / 1000;

    const accepted = samples.filter((s) => s.status === 201);
    const ids = accepted.map((s) => s.value!);
    await watcher.waitForAll(ids, options.settleTimeoutMs).catch(() => undefined);
    const finals = accepted.map((s) => watcher.finalAt.get(s.value!));
    const lastFinal = Math.max(...finals.map((f) => f?.at ?? 0));
    const settleSeconds = (lastFinal - began) / 1000;
    const endToEndMs = accepted.flatMap((s, i) => (finals[i] ? [finals[i]!.at - s.startedAt] : []));

    const seqAfter = await busLastSeq(busClient, targets.bus);
    const check = await verify(client, targets, accepted, samples.length);
    return { samples, loadSeconds, settleSeconds, endToEndMs, eventsStored: seqAfter - seqBefore, usage: usageDelta(system, usageBefore), check };
  } finally {
    watcher.close();
    client.close();
    busClient.close();
  }
}

async function warmUp(client: HttpClient, targets: Targets, watcher: FinalStatusWatcher, postIds: string[], options: PipelineOptions) {
  const samples = await closedLoop(options.warmup, options.concurrency, async (index) => {
    const result = await client.request('POST', `${commentsUrl(targets, index)}/posts/${postIds[index % postIds.length]}/comments`, { content: `warm-up ${index}` });
    return { status: result.status, value: result.status === 201 ? (JSON.parse(result.body) as { id: string }).id : undefined };
  });
  await watcher.waitForAll(samples.flatMap((s) => (s.value ? [s.value] : [])), options.settleTimeoutMs);
}

/** Reads the final view and checks every accepted comment is there once, with the right verdict. */
async function verify(client: HttpClient, targets: Targets, accepted: Sample[], sent: number): Promise<PipelineResult['check']> {
  const view = await wholeView(targets.query);
  const seen = new Map<string, { count: number; status: string; content: string }>();
  for (const post of Object.values(view)) {
    for (const comment of post.comments) {
      const entry = seen.get(comment.id);
      if (entry) entry.count += 1;
      else seen.set(comment.id, { count: 1, status: comment.status, content: comment.content });
    }
  }
  let lost = 0;
  let duplicated = 0;
  let pending = 0;
  let wrongStatus = 0;
  for (const sample of accepted) {
    const entry = seen.get(sample.value!);
    if (!entry) lost += 1;
    else {
      if (entry.count > 1) duplicated += 1;
      if (entry.status === 'pending') pending += 1;
      else if (entry.status !== expectedStatus(entry.content)) wrongStatus += 1;
    }
  }
  return { accepted: accepted.length, refused: sent - accepted.length, lost, duplicated, pending, wrongStatus };
}
