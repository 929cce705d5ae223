import { execFile } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../src/ports';

/**
 * `npm run status`, run from the build (`npm run build` first) against a stand-in bus on a loopback port.
 * (What `npm start` prints is the supervisor's: launcher/test/reporter.test.ts and test/supervisor.int.test.ts.)
 */
const DIST = path.resolve(__dirname, '../dist');
const run = promisify(execFile);

async function program(name: 'status', args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(DIST, `${name}.js`), ...args], {
      env: { ...process.env, EVENT_BUS_URL: '', BUS_TOKEN: '', ...env },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A server answering every request with `answer`; closed after the test. */
const servers: http.Server[] = [];
async function serve(answer: (request: http.IncomingMessage) => { status: number; body?: unknown }): Promise<string> {
  const server = http.createServer((request, response) => {
    const { status, body } = answer(request);
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const subscriber = {
  url: 'http://127.0.0.1:4002/events',
  position: 7,
  lag: 2,
  deliveries: 5,
  failures: 1,
  deadLettered: 0,
  lastError: 'connect ECONNREFUSED',
  lastSuccessAt: new Date().toISOString(),
};

describe('npm run status', () => {
  it('when no bus answers, then it says so, names the settings, and exits 1', async () => {
    const busUrl = `http://127.0.0.1:${await freePort()}`;

    const result = await program('status', ['--bus-url', busUrl]);

    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      `cannot reach the bus at ${busUrl}: is it running (npm start)? Set --bus-url or EVENT_BUS_URL.\n`,
    );
  });

  it('when the bus wants a token, then it says to set BUS_TOKEN and exits 1', async () => {
    const busUrl = await serve(() => ({ status: 401 }));

    const result = await program('status', [], { EVENT_BUS_URL: busUrl });

    expect(result).toMatchObject({ code: 1, stderr: `${busUrl}/subscribers answered 401: set BUS_TOKEN\n` });
  });

  it('when the bus answers, then it prints one table row per subscriber, sending BUS_TOKEN when set', async () => {
    const seen: Array<string | undefined> = [];
    const busUrl = await serve((request) => {
      seen.push(request.headers.authorization);
      return { status: 200, body: [subscriber] };
    });

    const result = await program('status', ['--bus-url', busUrl], { BUS_TOKEN: 'secret' });

    expect(result.code).toBe(0);
    expect(seen).toEqual(['Bearer secret']);
    for (const cell of ['subscriber', 'dead letters', subscriber.url, 'connect ECONNREFUSED', 's ago']) {
      expect(result.stdout).toContain(cell);
    }
  });

  it('when asked for --json, then it prints the subscribers as the bus gave them', async () => {
    const busUrl = await serve(() => ({ status: 200, body: [subscriber] }));

    const result = await program('status', ['--bus-url', busUrl, '--json']);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([subscriber]);
  });

  it('when the bus has no subscribers, then it says so', async () => {
    const busUrl = await serve(() => ({ status: 200, body: [] }));

    const result = await program('status', ['--bus-url', busUrl]);

    expect(result).toMatchObject({ code: 0, stdout: 'the bus has no subscribers\n' });
  });
});
