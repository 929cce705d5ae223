/**
 * What the fake kubectl and docker know: the objects of infra/k8s and infra/scale (as kubectl would
 * apply them), the images the Dockerfiles build, and a log of every call, so a test can run the
 * README's cluster commands as written and have each checked against the manifests. No cluster, no
 * container engine: a command that names something the manifests do not have fails, as it would on a
 * real cluster.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseAllDocuments } = require('yaml');

const ROOT = path.resolve(__dirname, '../../..');

function documentsIn(folder) {
  return fs
    .readdirSync(folder)
    .filter((name) => /\.ya?ml$/.test(name))
    .flatMap((name) => parseAllDocuments(fs.readFileSync(path.join(folder, name), 'utf8')).map((document) => document.toJS()))
    .filter(Boolean);
}

/** The real kubectl: the one on PATH that is not this fake. */
function realKubectl() {
  const own = path.resolve(__dirname, 'bin');
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (path.resolve(dir) === own) continue;
    const candidate = path.join(dir, 'kubectl');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('the real kubectl is not on PATH (the fake needs it for kubectl kustomize)');
}

function rendered(folder) {
  const text = execFileSync(realKubectl(), ['kustomize', folder], { encoding: 'utf8' });
  return parseAllDocuments(text).map((document) => document.toJS()).filter(Boolean);
}

let cached;
/** Every object either set of manifests makes. */
function objects() {
  cached ??= [...documentsIn(path.join(ROOT, 'infra', 'k8s')), ...rendered(path.join(ROOT, 'infra', 'scale'))];
  return cached;
}

const find = (kind, name) => objects().find((object) => object.kind.toLowerCase() === kind.toLowerCase() && object.metadata?.name === name);

function record(tool, args) {
  const log = process.env.FAKE_CLUSTER_LOG;
  if (log) fs.appendFileSync(log, `${JSON.stringify({ tool, args })}\n`);
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

module.exports = { ROOT, objects, find, record, fail, realKubectl, documentsIn, rendered };
