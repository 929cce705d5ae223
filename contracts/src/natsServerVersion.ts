/**
 * The oldest nats-server the NATS engine runs on. 2.10 is the first with `sync_interval` (a single
 * server syncs every write before it acknowledges it) and the release line the engine is tested on
 * (Debian 13's 2.10.27); a store written by 2.10 cannot be read by 2.9.
 */
export const NATS_SERVER_MINIMUM = { major: 2, minor: 10 } as const;
export const NATS_SERVER_MINIMUM_TEXT = `${NATS_SERVER_MINIMUM.major}.${NATS_SERVER_MINIMUM.minor}`;

/** Where to get a recent enough server, for the messages that refuse an older one. */
export const NATS_SERVER_ADVICE =
  'On Debian or Ubuntu, `bash scripts/get-nats-server.sh` puts Debian 13\'s 2.10.27 into .tools/ (npm run start:nats and the tests find it there); ' +
  'elsewhere install a release of 2.10 or later (your system\'s package, the official `nats` image, or a binary from the nats-server releases on GitHub) and set NATS_SERVER to its path';

/** `2.10.27` out of `v2.10.27`, `nats-server: v2.10.27` or `2.10.27-RC.1`; null when it holds no version. */
export function natsServerVersionOf(text: string): { major: number; minor: number; patch: number; text: string } | null {
  const found = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!found) return null;
  const [whole, major, minor, patch] = found;
  return { major: Number(major), minor: Number(minor), patch: Number(patch), text: whole! };
}

/** Why the engine cannot run on a server that reports this version, or null when it can. */
export function natsServerTooOld(reported: string): string | null {
  const version = natsServerVersionOf(reported);
  const { major, minor } = NATS_SERVER_MINIMUM;
  if (version && (version.major > major || (version.major === major && version.minor >= minor))) return null;
  return `nats-server ${version?.text ?? `"${reported}"`} is too old: the NATS engine needs ${NATS_SERVER_MINIMUM_TEXT} or later`;
}
