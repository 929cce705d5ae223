import path from 'node:path';
import { nodeVersionProblem, requiredNodeMajor } from '../src/supervisor/nodeVersion';

describe('the Node.js version npm start runs on', () => {
  it('when the root package.json is read, then the required major is the one its engines field names', () => {
    const manifest = require(path.resolve(__dirname, '..', '..', 'package.json')) as { engines: { node: string } };
    expect(requiredNodeMajor(path.resolve(__dirname, '..', '..'))).toBe(Number(/(\d+)/.exec(manifest.engines.node)![1]));
  });

  it('when Node.js is older than required, then nothing starts and the message says which is needed, which runs, and how to get it', () => {
    const problem = nodeVersionProblem('20.20.2', 24);
    expect(problem).toMatch(/^Nothing was started: the blog needs Node\.js 24 or newer, and this is Node\.js v20\.20\.2\./);
    expect(problem).toContain('node:sqlite');
    expect(problem).toContain('nvm install');
  });

  it('when Node.js is the required major or newer, then there is no problem', () => {
    expect(nodeVersionProblem('24.22.3', 24)).toBeNull();
    expect(nodeVersionProblem('v25.1.0', 24)).toBeNull();
  });
});
