import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NatsNode } from '../src/natsCluster';
import { freePort } from '../src/ports';

/**
 * A NATS server started again after a kill that does not become healthy (nats-server 2.10.27 has stayed
 * "JetStream is not current with the meta leader" for good) gets one more start, as the kubelet gives
 * one. A stand-in program plays the server: its monitoring port answers 503 on its first run, 200 after.
 */
const dirs: string[] = [];
const nodes: NatsNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.stop()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function standInServer(healthyFromRun: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-stand-in-'));
  dirs.push(dir);
  const ports = { client: await freePort(), cluster: await freePort(), monitor: await freePort() };
  const runs = path.join(dir, 'runs');
  const program = path.join(dir, 'nats-server');
  const source = `
    const fs = require('node:fs');
    fs.appendFileSync(${JSON.stringify(runs)}, 'run\\n');
    const run = fs.readFileSync(${JSON.stringify(runs)}, 'utf8').split('\\n').filter(Boolean).length;
    const healthy = run >= ${healthyFromRun};
    if (!healthy) console.log('Healthcheck failed: "JetStream is not current with the meta leader"');
    require('node:http').createServer((_, res) => { res.statusCode = healthy ? 200 : 503; res.end(healthy ? '{"status":"ok"}' : '{"status":"unavailable"}'); }).listen(${ports.monitor}, '127.0.0.1');`;
  fs.writeFileSync(path.join(dir, 'server.js'), source);
  fs.writeFileSync(program, `#!/bin/sh\nexec '${process.execPath}' '${path.join(dir, 'server.js')}'\n`, { mode: 0o755 });
  const node = new NatsNode('nats-2', ports, path.join(dir, 'nats.conf'), { path: program, version: '2.10.27' });
  nodes.push(node);
  return { node, runs: () => fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean).length };
}

describe('a NATS server started again after a kill', () => {
  it('when it is healthy at once, then it is started once', async () => {
    const { node, runs } = await standInServer(1);

    await node.startAfterKill(2_000);

    expect(runs()).toBe(1);
  });

  it('when it is not healthy in time, then it is stopped and started once more, and is healthy then', async () => {
    const { node, runs } = await standInServer(2);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);

    await node.startAfterKill(1_000);

    expect(runs()).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('nats-2 was not healthy in time after its restart, so it is started once more'));
    warn.mockRestore();
  });

  it('when the second start is not healthy either, then it fails saying why', async () => {
    const { node, runs } = await standInServer(3);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);

    await expect(node.startAfterKill(1_000)).rejects.toThrow(/last answered 503 \{"status":"unavailable"\}/);
    expect(runs()).toBe(2);
    warn.mockRestore();
  });
});
