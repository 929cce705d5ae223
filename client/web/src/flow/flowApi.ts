/** The flow API of the client server (`/flow/api/...`), as the page calls it. */
import type { FlowEvent, FlowSnapshot, KubectlCommands, ProcessName } from '../../../src/flow/wire';

export type { KubectlCommands };

/** A refusal or failure of a flow call: the status (null: no answer at all) and the server's message. */
export class FlowApiError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
    /** The bus refused a retry for want of the operator's credential: the page asks for the token. */
    readonly needsToken = false,
    readonly kubectl: KubectlCommands | null = null,
  ) {
    super(message);
    this.name = 'FlowApiError';
  }
}

export interface FlowApi {
  snapshot(): Promise<FlowSnapshot>;
  events(after: number, limit: number): Promise<FlowEvent[]>;
  /** Sends a dead letter back for delivery; with the operator token when the page has one. */
  retry(letter: { subscriber: string; seq: number }, operatorToken?: string): Promise<{ retrying: number }>;
  /** The kubectl commands (cluster mode: the control API answers 404 with them). */
  kubectl(): Promise<KubectlCommands>;
  processAction(name: ProcessName, action: 'stop' | 'start'): Promise<void>;
  moderationDelay(ms: number): Promise<void>;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const TIMEOUT_MS = 10_000;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

async function call(fetchImpl: FetchLike, path: string, init: RequestInit = {}): Promise<unknown> {
  let response: Response;
  try {
    const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(TIMEOUT_MS) : undefined;
    response = await fetchImpl(path, { ...init, signal, headers: { accept: 'application/json', ...init.headers } });
  } catch {
    throw new FlowApiError(null, 'cannot reach the client server: check that it runs');
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return body;
  const message = isRecord(body) && typeof body.error === 'string' ? body.error : `the server answered ${response.status}`;
  const details = isRecord(body) && Array.isArray(body.details) ? body.details : [];
  const detail = details.map((entry) => (isRecord(entry) && typeof entry.message === 'string' ? entry.message : null)).find(Boolean);
  throw new FlowApiError(
    response.status,
    detail && !message.includes(detail) ? `${message} (${detail})` : message,
    isRecord(body) && body.needsToken === true,
    isRecord(body) && isRecord(body.kubectl) ? (body.kubectl as unknown as KubectlCommands) : null,
  );
}

const post = (fetchImpl: FetchLike, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(fetchImpl, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

export function httpFlowApi(fetchImpl: FetchLike = (input, init) => fetch(input, init)): FlowApi {
  return {
    async snapshot() {
      return (await call(fetchImpl, '/flow/api/snapshot')) as FlowSnapshot;
    },
    async events(after, limit) {
      const body = await call(fetchImpl, `/flow/api/events?after=${after}&limit=${limit}`);
      return Array.isArray(body) ? (body as FlowEvent[]) : [];
    },
    async retry(letter, operatorToken) {
      const body = await post(fetchImpl, '/flow/api/dead-letters/retry', letter, operatorToken ? { 'x-operator-token': operatorToken } : {});
      return { retrying: isRecord(body) && typeof body.retrying === 'number' ? body.retrying : 0 };
    },
    async kubectl() {
      try {
        await call(fetchImpl, '/flow/api/control/processes');
      } catch (error) {
        if (error instanceof FlowApiError && error.kubectl) return error.kubectl;
        throw error;
      }
      throw new FlowApiError(200, 'a local supervisor runs the processes: no kubectl commands needed');
    },
    async processAction(name, action) {
      await post(fetchImpl, `/flow/api/control/processes/${encodeURIComponent(name)}/${action}`, {});
    },
    async moderationDelay(ms) {
      await post(fetchImpl, '/flow/api/control/moderation/delay', { ms });
    },
  };
}
