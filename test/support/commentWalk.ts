import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { LocalSystem, waitFor, type EngineName } from '@blog/launcher';
import { createComment, createPost, queryView } from './blogApi';
import { Inspector, inspectorUrl, type ProtocolTarget } from './inspector';

const ROOT = path.resolve(__dirname, '../..');
/** Long enough for every timer in the services (the feeds' looks at the log's end) to fire at least once. */
const IDLE_MS = 3_000;

const coverage = z.object({
  result: z.array(z.object({ url: z.string(), functions: z.array(z.object({ ranges: z.array(z.object({ count: z.number() })) })) })),
});

export interface CommentWalk {
  /** Project source files (as `package/src/file.ts`) whose code ran between sending a comment and query showing its final status. */
  ran: Set<string>;
  /** Those that ran in an idle window just before, when nothing was sent: the timers' files. */
  idle: Set<string>;
}

/** The project's source file a built script comes from, or undefined for node_modules and Node's own. */
function sourceFile(url: string): string | undefined {
  if (!url.startsWith('file://')) return undefined;
  const file = path.relative(ROOT, new URL(url).pathname);
  if (file.startsWith('..') || file.includes('node_modules')) return undefined;
  return file.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
}

/** Files whose functions ran since the last call (taking precise coverage with call counts resets them). */
async function filesRun(targets: ProtocolTarget[]): Promise<Set<string>> {
  const files = new Set<string>();
  for (const target of targets) {
    const { result } = coverage.parse(await target.send('Profiler.takePreciseCoverage'));
    for (const script of result) {
      const file = sourceFile(script.url);
      if (file && script.functions.some((fn) => (fn.ranges[0]?.count ?? 0) > 0)) files.add(file);
    }
  }
  return files;
}

/**
 * Runs the system on `engine` with every service process (and the bus's log thread) under the inspector,
 * and answers which project files ran for one comment: from `POST /posts/:id/comments` to its final
 * status in query's view.
 */
export async function walkOneComment(engine: EngineName): Promise<CommentWalk> {
  const system = await LocalSystem.create({ SERVICE_NODE_ARGS: '--inspect=127.0.0.1:0' }, { engine });
  const inspectors: Inspector[] = [];
  try {
    await system.startAll();
    const targets: ProtocolTarget[] = [];
    for (const { name, process: running } of system.processes().filter(({ name }) => !name.startsWith('nats'))) {
      const url = inspectorUrl(running.recentOutput());
      if (!url) throw new Error(`${name} printed no inspector address: ${running.recentOutput(10)}`);
      const inspector = await Inspector.connect(url);
      inspectors.push(inspector);
      await inspector.attachWorkers();
      targets.push(inspector, ...inspector.workers);
    }
    for (const target of targets) {
      await target.send('Profiler.enable');
      await target.send('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    }

    const post = await createPost(system.url('posts'), 'A walk');
    await waitFor('query to show the post', async () => Boolean((await queryView(system.url('query')))[post.body.id]));
    await filesRun(targets);
    await sleep(IDLE_MS);
    const idle = await filesRun(targets);

    const comment = await createComment(system.url('comments'), post.body.id, 'A kind comment');
    await waitFor('query to show the comment approved', async () =>
      (await queryView(system.url('query')))[post.body.id]?.comments.some((c) => c.id === comment.body.id && c.status === 'approved'),
    );
    return { ran: await filesRun(targets), idle };
  } finally {
    for (const inspector of inspectors) inspector.close();
    await system.stopAll();
  }
}
