#!/usr/bin/env node
// Validates Kubernetes manifests offline against the API's schemas.
//
//   node scripts/k8s/validate-manifests.mjs [file or folder ...] [--kustomize folder ...]
//   (default: infra/k8s infra/ingress --kustomize infra/scale)
//
// --kustomize validates what `kubectl kustomize <folder>` renders (an overlay's output exists nowhere as a
// file, and a patch can break a document that was valid in its base); it needs kubectl on PATH.
//
// Two libraries, each for what it knows: kubernetes-models checks types, required fields and enum values
// with the API's OpenAPI schemas; @kubernetes/client-node's generated models list every field each API
// type has, which catches misspelled or misplaced fields (the API server would drop or refuse them).
// Both ship their schemas inside the npm package: nothing is downloaded. Written as an ES module because
// @kubernetes/client-node is one. A few rules the API server enforces beyond those schemas (Secret keys
// and values, NetworkPolicy ports and selectors, PodDisruptionBudget bounds, env entries) are checked here as well.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';
import * as apiTypes from '@kubernetes/client-node/dist/gen/models/all.js';
import { apiServerProblems } from './apiServerRules.mjs';

const require = createRequire(import.meta.url);
const DEFAULT_ARGS = ['infra/k8s', 'infra/ingress', '--kustomize', 'infra/scale'];

/** The kubernetes-models class for an apiVersion and kind, from the core package or a CRD package. */
function modelFor(apiVersion, kind) {
  const candidates = [`kubernetes-models/${apiVersion}/${kind}`];
  if (apiVersion.startsWith('gateway.networking.k8s.io/')) {
    candidates.unshift(`@kubernetes-models/gateway-api/${apiVersion}/${kind}`);
  }
  for (const candidate of candidates) {
    try {
      return require(candidate)[kind];
    } catch {
      // not in this package: try the next one
    }
  }
  return undefined;
}

/** The client-node model for a built-in type, e.g. apps/v1 Deployment -> V1Deployment; undefined for CRDs. */
function apiTypeFor(apiVersion, kind) {
  const version = apiVersion.split('/').pop();
  return apiTypes[`${version[0].toUpperCase()}${version.slice(1)}${kind}`];
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

/** Lists every field that the API type (and the types inside it) does not have. */
function unknownFields(value, typeName, where, problems) {
  if (value === null || value === undefined) return problems;
  const arrayOf = ARRAY.exec(typeName);
  if (arrayOf) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, arrayOf[1], `${where}[${i}]`, problems));
    return problems;
  }
  const mapOf = MAP.exec(typeName);
  if (mapOf) {
    if (typeof value === 'object') for (const [key, item] of Object.entries(value)) unknownFields(item, mapOf[1], `${where}.${key}`, problems);
    return problems;
  }
  const model = apiTypes[typeName];
  if (!model?.attributeTypeMap || typeof value !== 'object' || Array.isArray(value)) return problems;
  const fields = new Map(model.attributeTypeMap.map((attribute) => [attribute.baseName, attribute.type]));
  for (const [key, item] of Object.entries(value)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) problems.push(`${where}.${key}: unknown field (not in ${typeName})`);
    else unknownFields(item, fieldType, `${where}.${key}`, problems);
  }
  return problems;
}

/** Every problem with one document, as readable lines; none means valid. */
export function validateDocument(document) {
  if (typeof document !== 'object' || document === null) return ['document is not a mapping'];
  const { apiVersion, kind } = document;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required'];
  const Model = modelFor(apiVersion, kind);
  if (!Model) return [`${apiVersion} ${kind}: unknown kind (no schema for it)`];
  const problems = [];
  try {
    new Model(document).validate();
  } catch (error) {
    problems.push(...String(error.message).split(/,\s*(?=data\/)/).map((line) => line.replace(/^data/, '')));
  }
  const apiType = apiTypeFor(apiVersion, kind);
  if (apiType) unknownFields(document, apiType.name, '', problems);
  if (apiType) problems.push(...apiServerProblems(document));
  return problems;
}

function yamlFiles(target) {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(target, name));
}

/** What `kubectl kustomize` renders for a folder; throws with the reason when kubectl is missing or the build fails. */
export function kustomize(folder) {
  try {
    return execFileSync('kubectl', ['kustomize', folder], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error(`kubectl is not on PATH: it is needed to render ${folder} (kubectl kustomize): install kubectl`);
    throw new Error(`kubectl kustomize ${folder} failed: ${String(error.stderr || error.message).trim()}`);
  }
}

/** Validates every document of one YAML text; answers the number of problems found. */
function validateText(source, text) {
  let problemCount = 0;
  parseAllDocuments(text).forEach((parsed, index) => {
    const label = `${source} #${index + 1}`;
    if (parsed.errors.length > 0) {
      problemCount += parsed.errors.length;
      for (const error of parsed.errors) console.error(`${label}: YAML: ${error.message}`);
      return;
    }
    const document = parsed.toJS();
    if (document === null) return;
    const problems = validateDocument(document);
    const name = `${document.kind}/${document.metadata?.name ?? '?'}`;
    if (problems.length === 0) {
      console.log(`ok   ${label} ${name}`);
    } else {
      problemCount += problems.length;
      for (const problem of problems) console.error(`FAIL ${label} ${name}: ${problem}`);
    }
  });
  return problemCount;
}

/** Validates every document of every file; answers the number of problems found. */
export function validatePaths(targets) {
  return targets.flatMap(yamlFiles).reduce((count, file) => count + validateText(file, fs.readFileSync(file, 'utf8')), 0);
}

/** Validates what kustomize renders for each folder, labelled `kustomize <folder>`; answers the number of problems found. */
export function validateKustomized(folders) {
  return folders.reduce((count, folder) => count + validateText(`kustomize ${folder}`, kustomize(folder)), 0);
}

/** Splits the command line into files or folders, and folders to render with kustomize. */
export function parseArgs(args) {
  const paths = [];
  const kustomizations = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--kustomize') {
      if (args[i + 1] === undefined) throw new Error('--kustomize needs a folder');
      kustomizations.push(args[(i += 1)]);
    } else if (arg.startsWith('--kustomize=')) {
      kustomizations.push(arg.slice('--kustomize='.length));
    } else if (arg.startsWith('--')) {
      throw new Error(`Unknown option '${arg}'`);
    } else {
      paths.push(arg);
    }
  }
  return { paths, kustomizations };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
const USAGE = `usage: npm run k8s:validate -- [FILE|FOLDER ...] [--kustomize FOLDER ...]
  checks every manifest against the Kubernetes schemas offline (no cluster); with no arguments,
  infra/k8s, infra/ingress and infra/scale (rendered with kustomize). Exit 0 when all are valid, 1 when one is not, 2 on a wrong option`;

if (isMain) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  let problems;
  try {
    const { paths, kustomizations } = parseArgs(args.length > 0 ? args : DEFAULT_ARGS);
    problems = validatePaths(paths) + validateKustomized(kustomizations);
  } catch (error) {
    console.error(`${error.message}; --help lists the options`);
    process.exit(2);
  }
  if (problems > 0) {
    console.error(`${problems} problem(s) found`);
    process.exit(1);
  }
  console.log('all manifests are valid');
}
