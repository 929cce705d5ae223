import fs from 'node:fs';
import path from 'node:path';
import { section, sourcePaths } from './support/developingDoc';

const ROOT = path.resolve(__dirname, '..');

describe('docs/DEVELOPING.md names files that exist', () => {
  it('when "Follow one comment" is read, then every file it names is there and the path takes about a dozen steps', () => {
    const text = section('Follow one comment');
    const files = sourcePaths(text);

    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(files.filter((file) => !fs.existsSync(path.join(ROOT, file)))).toEqual([]);
    expect(text.match(/^\s*\d+\. /gm)?.length).toBeLessThanOrEqual(12);
  });

  it('when "Follow one comment on NATS" is read, then every file it names is there, in a handful of steps', () => {
    const text = section('Follow one comment on NATS');
    const files = sourcePaths(text);

    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.filter((file) => !fs.existsSync(path.join(ROOT, file)))).toEqual([]);
    expect(text.match(/^\s*\d+\. /gm)?.length).toBeLessThanOrEqual(12);
  });

  it('when "Extending it" and "Layout" are read, then every source file and folder they name is there', () => {
    // `src/...` there is the new service's own, still to be written.
    const extending = sourcePaths(section('Extending it')).filter((file) => !file.startsWith('src/'));
    const files = [...extending, ...sourcePaths(section('Layout'))];
    const folders = [...section('Layout').matchAll(/^([\w-]+)\/\s/gm)].map((match) => match[1]!);

    expect(files.length + folders.length).toBeGreaterThan(5);
    expect([...files, ...folders].filter((entry) => !fs.existsSync(path.join(ROOT, entry)))).toEqual([]);
  });
});
