/**
 * jest's node environment, plus a safety net: after a test file's own clean-up has run (its afterAll
 * hooks), any process the launcher started and nobody stopped (a test failed before its clean-up) is
 * killed and named on the console, so jest can exit instead of waiting on it until CI's time limit.
 */
const { TestEnvironment } = require('jest-environment-node');

class ProcessSafeEnvironment extends TestEnvironment {
  async teardown() {
    // pid -> name, kept by launcher/src/childProcess.ts; each process leads a group of its own.
    const left = [...(this.global.__blogManagedChildren ?? new Map())];
    for (const [pid] of left) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (left.length > 0) console.warn(`${left.length} process(es) were still running after the file's tests and were killed: ${left.map(([pid, name]) => `${name} (pid ${pid})`).join(', ')}`);
    await super.teardown();
  }
}

module.exports = ProcessSafeEnvironment;
