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
export function apiServerProblems(document) {
  if (document.kind === 'Secret') return secretProblems(document);
  if (document.kind === 'NetworkPolicy') return networkPolicyProblems(document.spec);
  if (document.kind === 'PodDisruptionBudget') return disruptionBudgetProblems(document.spec);
  return envProblems(document);
}
