import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { SupervisedName } from './plan';
import type { ProcessState } from './supervisedProcess';
import type { SupervisorView } from './supervisor';

/** What the control API acts on: the supervisor, or a stand-in in its tests. */
export interface ControlTarget {
  readonly isStopping: boolean;
  view(): SupervisorView;
  has(name: string): name is SupervisedName;
  stopProcess(name: SupervisedName): { name: SupervisedName; state: ProcessState };
  startProcess(name: SupervisedName): { name: SupervisedName; state: ProcessState };
  setModerationDelay(ms: number): { name: 'moderation'; state: ProcessState; moderationDelayMs: number };
}

/** The longest moderation delay: under the bus's DELIVERY_TIMEOUT_MS (10 s), past which a delivery is retried. */
export const MAX_MODERATION_DELAY_MS = 10_000;
const moderationDelaySchema = z.object({ ms: z.number().int().min(0).max(MAX_MODERATION_DELAY_MS) });
const BODY_LIMIT_BYTES = 4 * 1024;

interface Answer {
  status: number;
  body: unknown;
}

const problem = (status: number, error: string, details: { path: string; message: string }[] = []): Answer => ({ status, body: { error, details } });

/**
 * Refuses what a web page in the user's browser could send: a request whose Host is not this machine's
 * loopback (a DNS-rebinding page) and a POST that is not JSON (a form or a no-cors fetch, which need no
 * CORS preflight; a JSON body does, and this API never grants one).
 */
function refusedFromBrowser(request: http.IncomingMessage, port: number): Answer | null {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!allowedHosts.includes(request.headers.host ?? '')) return problem(403, 'the control API answers only requests addressed to this machine\'s loopback');
  if (request.method === 'POST' && !/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    return problem(415, 'send the body as JSON (content-type: application/json), even when it is {}');
  }
  return null;
}

type BodyRead = { ok: true; value: unknown } | { ok: false; answer: Answer };

async function readJson(request: http.IncomingMessage): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) return { ok: false, answer: problem(413, `the body is over ${BODY_LIMIT_BYTES} bytes`) };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, answer: problem(400, 'the body is not JSON', [{ path: '(body)', message: error instanceof Error ? error.message : String(error) }]) };
  }
}

/** The routes: what each answers, given the request's method, path and (for POSTs) its parsed body. */
async function route(target: ControlTarget, method: string, pathname: string, body: () => Promise<BodyRead>): Promise<Answer> {
  if (method === 'GET' && pathname === '/processes') return { status: 200, body: target.view() };
  const action = /^\/processes\/([^/]+)\/(stop|start)$/.exec(pathname);
  if (method === 'POST' && action) {
    let name: string;
    try {
      name = decodeURIComponent(action[1]!);
    } catch {
      return problem(400, 'the process name in the path is not valid percent-encoding', [{ path: 'name', message: action[1]! }]);
    }
    if (!target.has(name)) return problem(404, `no process named "${name}" (there are ${target.view().processes.map((p) => p.name).join(', ')})`);
    if (target.isStopping) return problem(409, 'the supervisor is stopping everything');
    if (action[2] === 'start') return { status: 202, body: target.startProcess(name) };
    // The page that asks is served by the client: stopping it would take the page's own server away.
    if (name === 'client') return problem(409, 'the client cannot be stopped from here: it serves the page that asks; stop everything with Ctrl+C');
    return { status: 202, body: target.stopProcess(name) };
  }
  if (method === 'POST' && pathname === '/moderation/delay') {
    const read = await body();
    if (!read.ok) return read.answer;
    const parsed = moderationDelaySchema.safeParse(read.value);
    if (!parsed.success) {
      const details = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
      return problem(400, 'invalid moderation delay', details);
    }
    if (!target.has('moderation')) return problem(404, 'moderation is not part of this run');
    if (target.isStopping) return problem(409, 'the supervisor is stopping everything');
    return { status: 202, body: target.setModerationDelay(parsed.data.ms) };
  }
  return problem(404, `no route for ${method} ${pathname}`);
}

/**
 * The supervisor's control API, for the flow page (through the client server) and for curl: the
 * processes and their states, stop and start one, and moderation's delay. On loopback only, and only
 * in this local supervisor: Kubernetes has its own API for all of it.
 */
export function createControlServer(target: ControlTarget): http.Server {
  const server = http.createServer((request, response) => {
    const port = (server.address() as AddressInfo).port;
    const answer = (result: Answer) => {
      response.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      response.end(JSON.stringify(result.body));
    };
    const refused = refusedFromBrowser(request, port);
    if (refused) {
      request.resume();
      return answer(refused);
    }
    const pathname = new URL(request.url ?? '/', 'http://control').pathname;
    route(target, request.method ?? 'GET', pathname, () => readJson(request)).then(
      answer,
      (error: unknown) => answer(problem(500, error instanceof Error ? error.message : String(error))),
    );
  });
  server.requestTimeout = 10_000;
  return server;
}

/** Listens on 127.0.0.1 only: no other machine may stop this one's services. */
export function listenOnLoopback(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
