import type { EngineName } from '@blog/contracts';
import { walkOneComment } from './support/commentWalk';
import { part, section, sourcePaths } from './support/developingDoc';

const WALKS: [EngineName, string][] = [
  ['embedded', 'Follow one comment'],
  ['nats', 'Follow one comment on NATS'],
];

describe.each(WALKS)('docs/DEVELOPING.md\'s walk on the %s engine', (engine, heading) => {
  it('when one comment goes from POST to its final status in query, then "Every file it passes" names each file whose code ran, and none that did not run', async () => {
    const walk = part(section(heading), 'Every file it passes');
    const listed = new Set(sourcePaths(walk).filter((file) => file.includes('/src/')));

    const { ran, idle } = await walkOneComment(engine);

    expect({ ranButNotListed: [...ran].filter((file) => !listed.has(file)).sort() }).toEqual({ ranButNotListed: [] });
    // A timer's file (a feed's look at the log's end) may not fire in the moment the comment passes; it did while idle.
    expect({ listedButNotRun: [...listed].filter((file) => !ran.has(file) && !idle.has(file)).sort() }).toEqual({ listedButNotRun: [] });
    expect(listed.size).toBe(Number(/\*\*(\d+) files\*\*/.exec(walk)?.[1]));
  }, 120_000);
});
