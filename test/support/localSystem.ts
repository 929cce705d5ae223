import { LocalSystem } from '@blog/launcher';

export * from '@blog/launcher';

/**
 * Starts the five services as processes before the file's tests and stops them after; answers a
 * function that gives the running system.
 */
export function useLocalSystem(env: NodeJS.ProcessEnv = {}): () => LocalSystem {
  let system: LocalSystem | undefined;
  beforeAll(async () => {
    system = await LocalSystem.create(env);
    await system.startAll();
  });
  afterAll(async () => {
    await system?.stopAll();
  });
  return () => {
    if (!system) throw new Error('the local system is not running (useLocalSystem must be called at the top of the file)');
    return system;
  };
}
