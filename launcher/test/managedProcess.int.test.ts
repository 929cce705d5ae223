import { ManagedProcess } from '../src/childProcess';
import { freePort } from '../src/ports';

/** A program that listens and prints a line, but whose health URL never answers 200. */
class NeverHealthy extends ManagedProcess {
  async start(port: number, timeoutMs: number): Promise<void> {
    const program = `
      require('node:http').createServer((_, res) => { res.statusCode = 503; res.end('{"status":"replaying"}'); }).listen(${port}, '127.0.0.1');
      console.log('cannot subscribe yet; retrying');`;
    await this.run(process.execPath, ['-e', program], {}, `http://127.0.0.1:${port}/readyz`, 'the program to be ready', timeoutMs);
  }
}

describe('ManagedProcess', () => {
  it('when a program never becomes healthy, then the wait fails naming what the health URL last answered and what the program printed', async () => {
    const program = new NeverHealthy('never-healthy');
    try {
      await expect(program.start(await freePort(), 1_000)).rejects.toThrow(
        /timed out after 1000 ms waiting for the program to be ready; http:\/\/127\.0\.0\.1:\d+\/readyz last answered 503 \{"status":"replaying"\}; its last output: cannot subscribe yet; retrying/,
      );
    } finally {
      await program.stop();
    }
  });
});
