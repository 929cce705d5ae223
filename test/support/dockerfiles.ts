import fs from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { ROOT } from './manifests';

export interface RuntimeStage {
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  exposed: number[];
  /** CMD in exec form, e.g. ["node", "posts/dist/index.js"]; null when written in shell form. */
  cmd: string[] | null;
}

export interface DockerfileFacts {
  path: string;
  /** Base image of every stage, e.g. "node:24-bookworm-slim". */
  bases: string[];
  runtime: RuntimeStage;
}

export function dockerfilePath(service: string): string {
  return path.join(ROOT, service, 'Dockerfile');
}

/** What a Dockerfile's final stage sets up, read with a real Dockerfile parser. */
export function readDockerfile(service: string): DockerfileFacts {
  const file = dockerfilePath(service);
  const dockerfile = DockerfileParser.parse(fs.readFileSync(file, 'utf8'));
  const froms = dockerfile.getFROMs();
  const lastFromLine = froms[froms.length - 1]!.getRange().start.line;
  const runtime = dockerfile.getInstructions().filter((i: Instruction) => i.getRange().start.line > lastFromLine);
  const stage: RuntimeStage = { workdir: '/', env: {}, user: undefined, exposed: [], cmd: null };
  for (const instruction of runtime) {
    const args = instruction.getArgumentsContent() ?? '';
    switch (instruction.getKeyword()) {
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, args);
        break;
      case 'ENV':
        for (const [name, value] of args.split(/\s+/).map((pair) => pair.split('='))) stage.env[name!] = value ?? '';
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'EXPOSE':
        stage.exposed.push(...args.split(/\s+/).map(Number));
        break;
      case 'CMD':
        stage.cmd = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : null;
        break;
      default:
        break;
    }
  }
  return { path: file, bases: froms.map((from) => `${from.getImageName()}:${from.getImageTag()}`), runtime: stage };
}
