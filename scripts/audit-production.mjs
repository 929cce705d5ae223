#!/usr/bin/env node
// Fails when the production dependencies have a high or critical advisory; warns and passes when the
// advisory service cannot be reached (no network, or a registry mirror that does not offer it).
//
//   node scripts/audit-production.mjs [extra npm audit flags]
//
// Runs `npm audit --omit=dev --audit-level=high --json` and reads its answer rather than its exit code,
// which is 1 both for "advisories found" and for "could not ask":
//
// - a report (it has metadata.vulnerabilities): fail when it counts any high or critical advisory, and
//   list them; pass otherwise.
// - an error from the network (connection refused, name not resolved, timeout...): the service cannot be
//   reached, so warn and pass.
// - an HTTP error answer from the audit endpoint (not found or not allowed: a mirror or proxy that does not
//   offer it; unavailable, rate-limited or refused): the service cannot be reached, so warn and pass.
// - anything else (no lockfile, a TLS error, output that is not JSON...): fail, saying what npm said.
//
// AUDIT_REQUIRED=1 turns "cannot be reached" into a failure, for a CI that must never skip the check.
// `--offline=false` and `--audit=true` are passed because an offline npm answers an empty, clean-looking
// report without asking anyone. Addresses are left out of every message this script prints.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FAILING = ['high', 'critical'];

/** Error codes of a connection that never got an answer. */
const NETWORK_CODES = [
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ETIMEDOUT', 'ESOCKETTIMEDOUT',
  'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENETRESET', 'EPIPE', 'ENOTCACHED', 'ERR_SOCKET_TIMEOUT',
];
const NETWORK_MESSAGE = new RegExp(`\\b(${NETWORK_CODES.join('|')}|UND_ERR_[A-Z_]+)\\b|network timeout|response timeout|socket hang up`, 'i');

/** HTTP answers that mean the audit endpoint is not available from here (as opposed to a bad request of ours). */
const UNAVAILABLE_STATUS = {
  401: 'the registry wants credentials for it',
  403: 'the registry or a proxy refused it',
  404: 'the registry does not offer it (a mirror?)',
  405: 'the registry or a proxy in front of it does not offer it',
  407: 'a proxy wants credentials',
  408: 'the request timed out',
  429: 'rate-limited',
  500: 'the service failed',
  501: 'the registry does not offer it',
  502: 'a gateway could not reach it',
  503: 'the service is unavailable',
  504: 'a gateway timed out reaching it',
};

/** Removes addresses from npm's messages: URLs, and the host a resolver could not find. */
export function redact(text) {
  return String(text)
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"',)]+/gi, '<registry URL>')
    .replace(/\b(ENOTFOUND|EAI_AGAIN|EAI_FAIL)\s+\S+/g, '$1 <host>');
}

/**
 * What npm's JSON answer means: { kind: 'report', counts, advisories } | { kind: 'unreachable', reason } |
 * { kind: 'error', reason }.
 */
export function classify(stdout) {
  let answer;
  try {
    answer = JSON.parse(stdout);
  } catch {
    return { kind: 'error', reason: `npm audit did not answer JSON: ${redact(stdout.trim().slice(0, 300)) || '(nothing)'}` };
  }
  const counts = answer?.metadata?.vulnerabilities;
  if (counts && typeof counts === 'object') {
    const advisories = Object.values(answer.vulnerabilities ?? {})
      .filter((v) => FAILING.includes(v.severity))
      .map((v) => ({
        name: v.name,
        severity: v.severity,
        range: v.range,
        titles: (v.via ?? []).filter((via) => typeof via === 'object').map((via) => via.title),
        fix: v.fixAvailable === true ? 'npm audit fix' : v.fixAvailable ? `upgrade to ${v.fixAvailable.name}@${v.fixAvailable.version}` : 'no fix yet',
      }));
    return { kind: 'report', counts, advisories };
  }
  const message = [answer?.message, answer?.error?.code, answer?.code, answer?.error?.summary].filter(Boolean).join(' ');
  if (typeof answer?.statusCode === 'number') {
    const why = UNAVAILABLE_STATUS[answer.statusCode];
    if (why) return { kind: 'unreachable', reason: `the audit endpoint answered HTTP ${answer.statusCode}: ${why}` };
    return { kind: 'error', reason: `the audit endpoint answered HTTP ${answer.statusCode}: ${redact(message)}` };
  }
  const network = NETWORK_MESSAGE.exec(message);
  if (network) return { kind: 'unreachable', reason: `network error ${network[0]}` };
  return { kind: 'error', reason: redact(message) || 'npm audit gave neither a report nor an error it explains' };
}

function runAudit(extraArgs) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['audit', '--omit=dev', '--audit-level=high', '--json', '--offline=false', '--audit=true', ...extraArgs];
  const result = spawnSync(npm, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) return { kind: 'error', reason: `could not run npm: ${result.error.message}` };
  return classify(result.stdout ?? '');
}

function main() {
  const outcome = runAudit(process.argv.slice(2));
  if (outcome.kind === 'report') {
    const { counts, advisories } = outcome;
    const summary = ['critical', 'high', 'moderate', 'low'].map((s) => `${counts[s] ?? 0} ${s}`).join(', ');
    if ((counts.high ?? 0) + (counts.critical ?? 0) > 0) {
      console.error(`npm audit (production dependencies): FAIL: ${summary}`);
      for (const a of advisories) console.error(`  ${a.severity.padEnd(8)} ${a.name}${a.range ? ` ${a.range}` : ''}: ${a.titles.join('; ') || 'via another package'} (${a.fix})`);
      console.error('Run `npm audit --omit=dev` for the details.');
      return 1;
    }
    console.log(`npm audit (production dependencies): ok: ${summary}`);
    return 0;
  }
  if (outcome.kind === 'unreachable') {
    const required = process.env.AUDIT_REQUIRED === '1';
    const lines = [
      '',
      `!!! ${required ? 'FAIL' : 'WARNING'}: npm audit could not reach the advisory service: ${outcome.reason}.`,
      '!!! The production dependencies were NOT checked for advisories.',
      required ? '!!! AUDIT_REQUIRED=1 is set, so this fails.' : '!!! Continuing; run `npm audit --omit=dev` where the registry can be reached.',
      '',
    ];
    console.error(lines.join('\n'));
    return required ? 1 : 0;
  }
  console.error(`npm audit (production dependencies): FAIL: ${outcome.reason}`);
  return 1;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) process.exit(main());
