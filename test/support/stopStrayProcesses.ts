// The module itself, not the launcher's index: jsdom suites load this file too, and need none of the rest.
import { ManagedProcess } from '../../launcher/src/childProcess';

/**
 * After every test file: a process a failed test left running (its own clean-up never reached) is
 * killed here, named on the console, so jest can exit instead of waiting on it until CI's time limit.
 */
afterAll(async () => {
  const stopped = await ManagedProcess.stopAllRunning();
  if (stopped > 0) console.warn(`${expect.getState().testPath}: ${stopped} process(es) were still running after the file's tests and were killed`);
});
