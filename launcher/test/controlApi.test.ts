import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createControlServer, listenOnLoopback, type ControlTarget } from '../src/supervisor/controlApi';
import type { SupervisedName } from '../src/supervisor/plan';
import type { ProcessState } from '../src/supervisor/supervisedProcess';
import type { SupervisorView } from '../src/supervisor/supervisor';

/** The control API's contract, against a stand-in supervisor that records what it was asked. */

class StandInSupervisor implements ControlTarget {
  isStopping = false;
  engine: 'embedded' | 'nats' = 'embedded';
  readonly asked: string[] = [];
  private delayMs = 0;

  view(): SupervisorView {
    const names: SupervisedName[] = ['event-bus', 'posts', 'comments', 'moderation', 'query', 'client'];
    const processes = names.map((name) => ({ name, state: 'ready' as ProcessState, pid: 100, restarts: 0, url: `http://localhost/${name}`, lastExit: null, nextStartAt: null }));
    return { engine: this.engine, moderationDelayMs: this.delayMs, processes };
  }

  has(name: string): name is SupervisedName {
    return this.view().processes.some((process) => process.name === name);
  }

  stopProcess(name: SupervisedName) {
    this.asked.push(`stop ${name}`);
    return { name, state: 'stopping' as const };
  }

  startProcess(name: SupervisedName) {
    this.asked.push(`start ${name}`);
    return { name, state: 'starting' as const };
  }

  setModerationDelay(ms: number) {
    this.asked.push(`delay ${ms}`);
    this.delayMs = ms;
    return { name: 'moderation' as const, state: 'stopping' as const, moderationDelayMs: ms };
  }
}

let server: http.Server;
let base: string;
let supervisor: StandInSupervisor;

beforeEach(async () => {
  supervisor = new StandInSupervisor();
  server = createControlServer(supervisor);
  await listenOnLoopback(server, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => new Promise((resolve) => server.close(resolve)));

const post = (path: string, body: unknown = {}, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

async function answer(response: Promise<Response>) {
  const settled = await response;
  return { status: settled.status, body: (await settled.json()) as unknown };
}

describe('GET /processes', () => {
  it('when asked, then it answers the engine, the moderation delay and every process', async () => {
    const { status, body } = await answer(fetch(`${base}/processes`));

    expect(status).toBe(200);
    expect(body).toMatchObject({ engine: 'embedded', moderationDelayMs: 0, processes: expect.arrayContaining([expect.objectContaining({ name: 'posts', state: 'ready' })]) });
  });

  it('when it listens, then it is on loopback only', () => {
    expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
  });
});

describe('POST /processes/:name/stop and /start', () => {
  it('when a service is stopped or started, then it answers 202 with its name and state', async () => {
    expect(await answer(post('/processes/query/stop'))).toEqual({ status: 202, body: { name: 'query', state: 'stopping' } });
    expect(await answer(post('/processes/query/start'))).toEqual({ status: 202, body: { name: 'query', state: 'starting' } });
    expect(supervisor.asked).toEqual(['stop query', 'start query']);
  });

  it('when the process is unknown, then it answers 404 with a JSON error', async () => {
    const { status, body } = await answer(post('/processes/nats/stop'));

    expect(status).toBe(404);
    expect(body).toEqual({ error: expect.stringContaining('no process named "nats"'), details: [] });
    expect(supervisor.asked).toEqual([]);
  });

  it('when the client is to be stopped, then it answers 409: the page asking is served by it', async () => {
    const { status, body } = await answer(post('/processes/client/stop'));

    expect(status).toBe(409);
    expect(body).toEqual({ error: expect.stringContaining('client'), details: [] });
    expect(supervisor.asked).toEqual([]);
  });

  it('when the client is to be started, then that is allowed', async () => {
    expect((await post('/processes/client/start')).status).toBe(202);
  });

  it('when the supervisor is stopping everything, then it answers 409', async () => {
    supervisor.isStopping = true;

    expect((await post('/processes/posts/start')).status).toBe(409);
    expect(supervisor.asked).toEqual([]);
  });
});

describe('POST /moderation/delay', () => {
  it('when the delay is within 0..10000 ms, then moderation is restarted with it: 202', async () => {
    expect(await answer(post('/moderation/delay', { ms: 2500 }))).toEqual({ status: 202, body: { name: 'moderation', state: 'stopping', moderationDelayMs: 2500 } });
    expect(supervisor.asked).toEqual(['delay 2500']);
    expect(((await answer(fetch(`${base}/processes`))).body as SupervisorView).moderationDelayMs).toBe(2500);
  });

  it.each([
    [{ ms: 10_001 }, 'ms'],
    [{ ms: -1 }, 'ms'],
    [{ ms: 1.5 }, 'ms'],
    [{ ms: '100' }, 'ms'],
    [{}, 'ms'],
    [[], '(body)'],
  ])('when the body is %p, then it answers 400 naming %s, and nothing is restarted', async (body, path) => {
    const { status, body: error } = await answer(post('/moderation/delay', body));

    expect(status).toBe(400);
    expect(error).toEqual({ error: 'invalid moderation delay', details: [expect.objectContaining({ path })] });
    expect(supervisor.asked).toEqual([]);
  });

  it('when the engine is NATS, then the delay is set all the same: moderation holds each event before its verdict there too', async () => {
    supervisor.engine = 'nats';

    const { status } = await answer(post('/moderation/delay', { ms: 100 }));

    expect(status).toBe(202);
    expect(supervisor.asked.length).toBeGreaterThan(0);
  });

  it('when the body is not JSON, then it answers 400', async () => {
    const { status, body } = await answer(post('/moderation/delay', '{"ms":'));

    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'the body is not JSON' });
  });

  it('when the body is too large, then it answers 413', async () => {
    expect((await post('/moderation/delay', { ms: 1, pad: 'x'.repeat(10_000) })).status).toBe(413);
  });
});

describe('requests a web page could send', () => {
  it('when a POST is not JSON (a form, a no-cors fetch), then it answers 415 and does nothing', async () => {
    const { status } = await answer(post('/processes/posts/stop', 'x', { 'content-type': 'text/plain' }));

    expect(status).toBe(415);
    expect(supervisor.asked).toEqual([]);
  });

  it('when the Host is not this machine\'s loopback (DNS rebinding), then it answers 403', async () => {
    const port = (server.address() as AddressInfo).port;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, path: '/processes', headers: { host: `attacker.example:${port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.on('error', reject);
      request.end();
    });

    expect(status).toBe(403);
  });

  it('when the path is unknown, then it answers 404 as JSON', async () => {
    expect(await answer(fetch(`${base}/nope`))).toEqual({ status: 404, body: { error: 'no route for GET /nope', details: [] } });
  });
});
