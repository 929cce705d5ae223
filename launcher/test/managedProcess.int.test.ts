import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedProcess } from '../src/childProcess';
import { freePort } from '../src/ports';

/** A stand-in program started as the tests start the services: `behaviour` is its JavaScript. */
class StandIn extends ManagedProcess {
  async start(port: number, behaviour: string, timeoutMs: number): Promise<void> {
    const readyUrl = `http://127.0.0.1:${port}/readyz`;
    const spec = { name: this.name, url: `http://127.0.0.1:${port}`, readyUrl, command: process.execPath, args: ['-e', behaviour], cwd: process.cwd(), env: process.env };
    await this.run(spec, 'the program to be ready', timeoutMs);
  }
}

const running: StandIn[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((program) => program.stop()));
});

function standIn(name: string): StandIn {
  const program = new StandIn(name);
  running.push(program);
  return program;
}

describe('ManagedProcess', () => {
  it('when a program never becomes healthy, then the wait fails naming what the health URL last answered and what the program printed', async () => {
    const port = await freePort();
    const program = `
      require('node:http').createServer((_, res) => { res.statusCode = 503; res.end('{"status":"replaying"}'); }).listen(${port}, '127.0.0.1');
      console.log('cannot subscribe yet; retrying');`;
    await expect(standIn('never-healthy').start(port, program, 1_000)).rejects.toThrow(
      /timed out after 1000 ms waiting for the program to be ready; http:\/\/127\.0\.0\.1:\d+\/readyz last answered 503 \{"status":"replaying"\}; its last output: cannot subscribe yet; retrying/,
    );
  });

  it('when a program exits while starting, then the wait fails at once with its exit code and last lines', async () => {
    const started = Date.now();
    await expect(standIn('exits').start(await freePort(), `console.error('no such store'); process.exit(3);`, 30_000)).rejects.toThrow(/exits exited with 3 while starting: no such store/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('when a started program is killed, then it stays stopped: the tests are not restarted behind their back as npm start restarts', async () => {
    const port = await freePort();
    const program = standIn('killed');
    await program.start(port, `require('node:http').createServer((_, res) => res.end('ok')).listen(${port}, '127.0.0.1');`, 30_000);
    const pid = program.pid!;
    process.kill(pid, 'SIGKILL');
    // npm start would have started it again within 0.5 s (LOCAL_BACKOFF) and had it listening soon after.
    await sleep(2_000);
    expect(program.pid).toBeUndefined();
    await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
  });

  it('when stopped with SIGTERM, then it answers the exit code the program chose while draining', async () => {
    const port = await freePort();
    const program = standIn('drains');
    const source = `require('node:http').createServer((_, res) => res.end('ok')).listen(${port}, '127.0.0.1'); process.on('SIGTERM', () => process.exit(7));`;
    await program.start(port, source, 30_000);
    await expect(program.stop('SIGTERM')).resolves.toBe(7);
    expect(program.pid).toBeUndefined();
  });
});
