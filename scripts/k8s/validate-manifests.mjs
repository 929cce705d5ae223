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

// Rules of the API server's own validation that the OpenAPI schemas do not express, for the kinds whose
// mistakes would otherwise only show on a cluster: Secrets, NetworkPolicies, PodDisruptionBudgets, and the env
// of pod templates.
// One more is a trap rather than an error: NetworkPolicy rules for a direction its policyTypes leaves out
// are accepted and silently ignored.
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function selectorProblems(selector, where) {
  if (selector === undefined || selector === null) return [];
  const problems = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!LABEL_NAME.test(key)) problems.push(`${where}.matchLabels: ${key} is not a valid label key`);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) problems.push(`${where}.matchLabels.${key}: ${JSON.stringify(value)} is not a valid label value`);
  }
  (selector.matchExpressions ?? []).forEach((expression, i) => {
    const at = `${where}.matchExpressions[${i}]`;
    const values = expression.values ?? [];
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(expression.operator)) problems.push(`${at}.operator: ${expression.operator} is not In, NotIn, Exists or DoesNotExist`);
    else if (['In', 'NotIn'].includes(expression.operator) && values.length === 0) problems.push(`${at}: ${expression.operator} needs values`);
    else if (['Exists', 'DoesNotExist'].includes(expression.operator) && values.length > 0) problems.push(`${at}: ${expression.operator} takes no values`);
    for (const value of values) if (!LABEL_VALUE.test(String(value))) problems.push(`${at}.values: ${JSON.stringify(value)} is not a valid label value`);
  });
  return problems;
}

function cidrProblem(cidr) {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr ?? '');
  if (v4 && v4.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(v4[5]) <= 32) return undefined;
  if (/^[0-9a-fA-F:]+\/\d{1,3}$/.test(cidr ?? '') && Number(cidr.split('/')[1]) <= 128) return undefined;
  return `${JSON.stringify(cidr)} is not a CIDR`;
}

function peerProblems(peers, where) {
  const problems = [];
  (peers ?? []).forEach((peer, i) => {
    const at = `${where}[${i}]`;
    if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) problems.push(`${at}: ipBlock cannot be combined with a selector`);
    if (!peer.ipBlock && !peer.podSelector && !peer.namespaceSelector) problems.push(`${at}: a peer needs podSelector, namespaceSelector or ipBlock`);
    problems.push(...selectorProblems(peer.podSelector, `${at}.podSelector`), ...selectorProblems(peer.namespaceSelector, `${at}.namespaceSelector`));
    if (peer.ipBlock) {
      const bad = cidrProblem(peer.ipBlock.cidr);
      if (bad) problems.push(`${at}.ipBlock.cidr: ${bad}`);
      for (const except of peer.ipBlock.except ?? []) {
        const badExcept = cidrProblem(except);
        if (badExcept) problems.push(`${at}.ipBlock.except: ${badExcept}`);
      }
    }
  });
  return problems;
}

function policyPortProblems(ports, where) {
  const problems = [];
  (ports ?? []).forEach((port, i) => {
    const at = `${where}[${i}]`;
    if (typeof port.port === 'number' && (port.port < 1 || port.port > 65535)) problems.push(`${at}.port: ${port.port} is not in 1-65535`);
    if (typeof port.port === 'string' && !PORT_NAME.test(port.port)) problems.push(`${at}.port: ${JSON.stringify(port.port)} is neither a number nor a port name`);
    if (port.endPort !== undefined) {
      if (typeof port.port !== 'number') problems.push(`${at}.endPort: needs a numeric port`);
      else if (port.endPort < port.port || port.endPort > 65535) problems.push(`${at}.endPort: ${port.endPort} must be between port and 65535`);
    }
  });
  return problems;
}

function networkPolicyProblems(spec = {}) {
  const problems = [...selectorProblems(spec.podSelector, '.spec.podSelector')];
  const types = spec.policyTypes ?? [];
  if (new Set(types).size !== types.length) problems.push('.spec.policyTypes: listed twice');
  (spec.ingress ?? []).forEach((rule, i) => {
    problems.push(...peerProblems(rule.from, `.spec.ingress[${i}].from`), ...policyPortProblems(rule.ports, `.spec.ingress[${i}].ports`));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    problems.push(...peerProblems(rule.to, `.spec.egress[${i}].to`), ...policyPortProblems(rule.ports, `.spec.egress[${i}].ports`));
  });
  if (spec.egress && types.length > 0 && !types.includes('Egress')) problems.push('.spec.egress: given, but policyTypes leaves out Egress, so it is ignored');
  if (spec.ingress && types.length > 0 && !types.includes('Ingress')) problems.push('.spec.ingress: given, but policyTypes leaves out Ingress, so it is ignored');
  return problems;
}

function secretProblems(document) {
  const problems = [];
  for (const field of ['data', 'stringData']) {
    for (const [key, value] of Object.entries(document[field] ?? {})) {
      if (!CONFIG_KEY.test(key)) problems.push(`.${field}.${key}: a key may hold only letters, digits, '-', '_' and '.'`);
      if (field === 'data' && typeof value === 'string' && !BASE64.test(value)) problems.push(`.data.${key}: not base64 (use stringData for plain text)`);
    }
  }
  return problems;
}

function envProblems(document) {
  const pod = document.kind === 'Pod' ? document.spec : document.spec?.template?.spec;
  const problems = [];
  for (const [group, containers] of [['containers', pod?.containers], ['initContainers', pod?.initContainers]]) {
    (containers ?? []).forEach((container, c) => {
      (container.env ?? []).forEach((variable, e) => {
        const at = `.spec${document.kind === 'Pod' ? '' : '.template.spec'}.${group}[${c}].env[${e}]`;
        if (variable.value !== undefined && variable.valueFrom !== undefined) problems.push(`${at} (${variable.name}): value and valueFrom cannot both be set`);
        const from = variable.valueFrom;
        if (from && Object.keys(from).length !== 1) problems.push(`${at} (${variable.name}): valueFrom needs exactly one source`);
        if (from?.secretKeyRef && !from.secretKeyRef.name) problems.push(`${at} (${variable.name}): secretKeyRef needs the Secret's name`);
      });
    });
  }
  return problems;
}

const INT_OR_PERCENT = /^(0|[1-9][0-9]*)%$/;

/** A budget takes one of minAvailable and maxUnavailable, each a count or a percentage, over a valid selector. */
function disruptionBudgetProblems(spec = {}) {
  const problems = [...selectorProblems(spec.selector, '.spec.selector')];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) problems.push('.spec: minAvailable and maxUnavailable cannot both be set');
  for (const field of ['minAvailable', 'maxUnavailable']) {
    const value = spec[field];
    if (typeof value === 'number' && (!Number.isInteger(value) || value < 0)) problems.push(`.spec.${field}: ${value} is not a count (an integer of 0 or more)`);
    if (typeof value === 'string' && !INT_OR_PERCENT.test(value)) problems.push(`.spec.${field}: ${JSON.stringify(value)} is neither a count nor a percentage such as "50%"`);
  }
  return problems;
}

/** The API server's rules beyond the schemas, for the kinds they concern. */
function apiServerProblems(document) {
  if (document.kind === 'Secret') return secretProblems(document);
  if (document.kind === 'NetworkPolicy') return networkPolicyProblems(document.spec);
  if (document.kind === 'PodDisruptionBudget') return disruptionBudgetProblems(document.spec);
  return envProblems(document);
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
