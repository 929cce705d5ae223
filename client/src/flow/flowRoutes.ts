import { API_BODY_LIMIT_BYTES } from '@blog/contracts';
import { AppError, clientOf, jsonBody, parseOrThrow } from '@blog/service-kit';
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { MAX_EVENTS_PAGE, type BusReader } from './busReader';
import type { FlowHub } from './flowHub';
import type { SnapshotSource } from './snapshot';
import { CONTROLLABLE, kubectlCommands, type SupervisorClient } from './supervisor';
import type { UpstreamAnswer } from './upstream';
import { MAX_MODERATION_DELAY_MS, type NoSupervisorAnswer } from './wire';

export interface FlowDeps {
  bus: BusReader;
  snapshots: SnapshotSource;
  hub: FlowHub;
  /** Only in local mode (SUPERVISOR_URL); null in a cluster. */
  supervisor: SupervisorClient | null;
}

/** The header the page sends the operator's token in, for a dead-letter retry only. */
export const OPERATOR_TOKEN_HEADER = 'x-operator-token';

const eventsQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(MAX_EVENTS_PAGE).default(100),
  })
  .strict();

const retryRequest = z
  .object({
    subscriber: z.string().min(1).max(2_000),
    seq: z.number().int().positive().optional(),
  })
  .strict();

const delayRequest = z.object({ ms: z.number().int().min(0).max(MAX_MODERATION_DELAY_MS) }).strict();

/** A bearer token is visible ASCII; anything else would not be one, and must never reach a header. */
const TOKEN_PATTERN = /^[\x21-\x7e]{1,512}$/;

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('cache-control', 'no-store');
  next();
};

/**
 * The flow API's writes (a retry, a supervisor action) come from the page itself only: a browser sends
 * `Origin` with a cross-site POST and `Sec-Fetch-Site: cross-site`, and either is refused, so another
 * site open in the same browser cannot stop a service on this machine. (The JSON body the routes require
 * already needs a CORS preflight, which this server never grants.)
 */
export const sameOriginOnly: RequestHandler = (req, _res, next) => {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  let foreign = site === 'cross-site';
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      foreign ||= new URL(origin).host !== req.headers.host;
    } catch {
      foreign = true;
    }
  } else if (origin === 'null') {
    foreign = true;
  }
  if (foreign) return next(new AppError(403, 'the flow page\'s actions are accepted from this page only'));
  next();
};

const LOOPBACK_NAME = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * The local supervisor's controls reach nothing past this machine: only a request addressed to this very
 * server by a loopback name (`localhost:3000`, `127.0.0.1:3000`, `[::1]:3000`, on the port it arrived on)
 * and, when the browser says where it comes from, from a page of that same origin. A request from
 * another machine names this one by another address, and a DNS-rebinding page names its own host.
 */
export const localOnly: RequestHandler = (req, _res, next) => {
  let local = false;
  try {
    const host = new URL(`http://${req.headers.host ?? ''}`);
    local = LOOPBACK_NAME.test(host.hostname) && host.port === String(req.socket.localPort);
    const origin = req.headers.origin;
    if (origin !== undefined) local &&= origin === `http://${req.headers.host}`;
  } catch {
    local = false;
  }
  if (!local) return next(new AppError(403, 'the local supervisor\'s controls answer only this machine: open the page at http://localhost:<port>/flow'));
  next();
};

const messageOf = (body: unknown): string | undefined => {
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === 'string' ? error : undefined;
};

const detailsOf = (body: unknown): unknown[] => {
  const details = (body as { details?: unknown } | null)?.details;
  return Array.isArray(details) ? details.slice(0, 10) : [];
};

/** The bus's answer to a retry, for the page: 401 and 403 pass through with a message that says what to do. */
function answerRetry(res: Response, answer: UpstreamAnswer, sentToken: boolean): void {
  const bus = messageOf(answer.body);
  switch (answer.status) {
    case 202:
      res.status(202).json({ retrying: (answer.body as { retrying?: unknown } | null)?.retrying ?? 0 });
      return;
    case 401:
      res.status(401).json({
        error: sentToken
          ? 'The bus did not accept that operator token (401): check it and try again.'
          : 'The bus asks for the operator token to retry dead letters (401).',
        details: bus ? [{ message: `the bus said: ${bus}` }] : [],
        needsToken: true,
      });
      return;
    case 403:
      res.status(403).json({
        error: sentToken
          ? 'The bus refused the retry (403): that token is not the operator\'s, and only the operator may retry dead letters.'
          : 'Only the operator may retry dead letters (403): this page\'s own credential may only read. Enter the operator token.',
        details: bus ? [{ message: `the bus said: ${bus}` }] : [],
        needsToken: true,
      });
      return;
    case 400:
    case 404:
      res.status(answer.status).json({ error: bus ?? `the bus refused the retry (${answer.status})`, details: detailsOf(answer.body) });
      return;
    default:
      res.status(502).json({ error: `the event-bus service answered ${answer.status}${bus ? `: ${bus}` : ''}`, details: [] });
  }
}

/** The supervisor's answer to an action: 202 as it is, its refusals (404, 409, 400) with its message, anything else as a 502. */
function answerSupervisor(res: Response, answer: UpstreamAnswer): void {
  const said = messageOf(answer.body);
  if (answer.status >= 200 && answer.status < 300) {
    res.status(answer.status).json(answer.body ?? { accepted: true });
    return;
  }
  if ([400, 404, 409].includes(answer.status)) {
    res.status(answer.status).json({ error: said ?? `the local supervisor refused (${answer.status})`, details: detailsOf(answer.body) });
    return;
  }
  res.status(502).json({ error: `the local supervisor answered ${answer.status}${said ? `: ${said}` : ''}`, details: [] });
}

function operatorTokenOf(value: string | string[] | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !TOKEN_PATTERN.test(value)) {
    throw new AppError(400, 'the operator token must be printable ASCII without spaces, at most 512 characters');
  }
  return value;
}

/** `/flow/api/...`: the flow page's reads, its live stream, and the few actions it may ask for. */
export function flowRoutes({ bus, snapshots, hub, supervisor }: FlowDeps): Router {
  const router = Router();
  router.use('/flow/api', noStore);

  router.get('/flow/api/snapshot', async (_req, res) => {
    res.json(await snapshots.latest());
  });

  router.get('/flow/api/events', async (req, res) => {
    const { after, limit } = parseOrThrow(eventsQuery, req.query, 'query');
    res.json(await bus.readAfter(after, limit));
  });

  router.get('/flow/api/stream', (req, res) => {
    if (hub.open(res, clientOf(req.socket))) return;
    res.setHeader('retry-after', '5');
    res.status(503).json({ error: 'too many open flow streams; try again later', details: [] });
  });

  router.post('/flow/api/dead-letters/retry', sameOriginOnly, jsonBody(API_BODY_LIMIT_BYTES), async (req, res) => {
    const filter = parseOrThrow(retryRequest, req.body, 'retry request');
    const token = operatorTokenOf(req.headers[OPERATOR_TOKEN_HEADER]);
    answerRetry(res, await bus.retry(filter, token), token !== undefined);
  });

  if (!supervisor) {
    router.use('/flow/api/control', async (_req, res) => {
      const { engine } = await snapshots.latest();
      const answer: NoSupervisorAnswer = {
        error: 'no local supervisor: this client server was started without SUPERVISOR_URL (as in Kubernetes), so the page cannot stop or start processes; the kubectl commands here do the same',
        details: [],
        kubectl: kubectlCommands(engine),
      };
      res.status(404).json(answer);
    });
    return router;
  }

  router.use('/flow/api/control', localOnly);
  router.get('/flow/api/control/processes', async (_req, res) => {
    res.json(await supervisor.processes());
  });

  router.post('/flow/api/control/processes/:name/:action', sameOriginOnly, jsonBody(API_BODY_LIMIT_BYTES), async (req, res) => {
    const { name, action } = req.params as { name: string; action: string };
    if (action !== 'stop' && action !== 'start') throw new AppError(404, `no action ${action}: stop or start`);
    if (name === 'client') throw new AppError(409, 'the client server serves this page; stop it from the terminal that started it');
    const target = CONTROLLABLE.safeParse(name);
    if (!target.success) throw new AppError(404, `no process named ${name}`);
    answerSupervisor(res, await supervisor.action(target.data, action));
  });

  router.post('/flow/api/control/moderation/delay', sameOriginOnly, jsonBody(API_BODY_LIMIT_BYTES), async (req, res) => {
    const { ms } = parseOrThrow(delayRequest, req.body, 'moderation delay');
    answerSupervisor(res, await supervisor.moderationDelay(ms));
  });

  return router;
}
