import { UpstreamFailure, type FlowHttp, type FlowUpstream } from './upstream';
import type { FlowServiceName, ServiceHealth } from './wire';

/** A readiness check that takes longer than this counts as "down": the page refreshes every second. */
export const HEALTH_TIMEOUT_MS = 1_500;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** `/readyz`'s 503 body in words: "starting", "damaged: the log ... (run npm run bus:repair)". */
function reasonOf(body: unknown, status: number): string {
  if (!isRecord(body)) return `answered ${status}`;
  const parts: string[] = [];
  if (typeof body.status === 'string') parts.push(body.status);
  if (Array.isArray(body.problems)) parts.push(...body.problems.filter((problem): problem is string => typeof problem === 'string').slice(0, 3));
  if (typeof body.action === 'string') parts.push(body.action);
  if (parts.length === 0 && typeof body.error === 'string') parts.push(body.error);
  const text = parts.length > 0 ? parts.join(': ') : `answered ${status}`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** What one service's `/readyz` says: ready, alive and not ready (and why), or down. Never throws. */
export async function readinessOf(http: FlowHttp, name: FlowServiceName, upstream: FlowUpstream): Promise<ServiceHealth> {
  try {
    const answer = await http.call(upstream, '/readyz', { timeoutMs: HEALTH_TIMEOUT_MS, maxBytes: 64 * 1024 });
    if (answer.status === 200) return { name, state: 'ready', reason: null };
    return { name, state: 'not-ready', reason: reasonOf(answer.body, answer.status) };
  } catch (error) {
    const reason = error instanceof UpstreamFailure ? error.reason : 'not answering';
    return { name, state: 'down', reason };
  }
}
