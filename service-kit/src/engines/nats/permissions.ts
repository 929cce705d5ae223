import { BLOG_SERVICES, EVENT_OWNERS, type PublisherName } from '@blog/contracts';
import { DEAD_LETTER_STREAM, EVENTS_STREAM, deadLetterSubjectOf, subjectOf } from './names';

/**
 * NATS's own users and subject permissions, for the same rule the embedded bus enforces with
 * BUS_CREDENTIALS: each service publishes only the event types it owns (EVENT_OWNERS). Everything here
 * is generated from that map, so the server's rules and the bus's cannot drift apart.
 */

/** The services that connect to NATS, each as a user of its own (its name, its token as password). */
export const NATS_SERVICE_USERS = BLOG_SERVICES;
/** The event-bus gateway: it holds the publish map for HTTP callers itself, so NATS lets it do everything. */
export const NATS_GATEWAY_USER = 'event-bus';

export interface SubjectRules {
  allow: string[];
  deny?: string[];
}

export interface NatsUserPermissions {
  publish: SubjectRules;
  subscribe: SubjectRules;
}

const ownedSubjects = (name: string) =>
  (Object.keys(EVENT_OWNERS) as (keyof typeof EVENT_OWNERS)[]).filter((type) => EVENT_OWNERS[type] === (name as PublisherName)).map(subjectOf);

/** A service's durable consumers: its live one, and the one its parked events come back on. */
const durablesOf = (name: string) => [name, `${name}_retry`];

/**
 * What one service may do on NATS: publish its own event types and park its own dead letters; read
 * the streams (stream info, direct gets, consumers of its own); create the streams if it starts first
 * (same settings: nothing changes if they exist); ack only its own durable consumers' messages. It may
 * not delete, purge or reconfigure a stream, nor touch another service's durable consumer.
 */
export function servicePermissions(name: string): NatsUserPermissions {
  const others = NATS_SERVICE_USERS.filter((other) => other !== name).flatMap(durablesOf);
  const streams = [EVENTS_STREAM, DEAD_LETTER_STREAM];
  return {
    publish: {
      allow: [
        ...ownedSubjects(name),
        deadLetterSubjectOf(name),
        '$JS.API.INFO',
        ...streams.flatMap((stream) => [`$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.CREATE.${stream}`]),
        '$JS.API.DIRECT.GET.>',
        '$JS.API.CONSUMER.>',
        `$JS.ACK.${EVENTS_STREAM}.${name}.>`,
        `$JS.ACK.${DEAD_LETTER_STREAM}.${name}_retry.>`,
      ],
      // Another service's durable consumer, by any consumer API: create, info, delete, next message, or a filtered create.
      deny: others.flatMap((durable) => [`$JS.API.CONSUMER.*.*.${durable}`, `$JS.API.CONSUMER.*.*.${durable}.>`, `$JS.API.CONSUMER.*.*.*.${durable}`]),
    },
    // Answers and pulled messages come to the connection's own inbox.
    subscribe: { allow: ['_INBOX.>'] },
  };
}

export const gatewayPermissions = (): NatsUserPermissions => ({ publish: { allow: ['>'] }, subscribe: { allow: ['>'] } });

/** The environment variable that holds a NATS user's password in the server's configuration: `POSTS_NATS_PASSWORD`. */
export const passwordVariableOf = (user: string) => `${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_NATS_PASSWORD`;

const quoted = (subjects: string[]) => `[${subjects.map((subject) => JSON.stringify(subject)).join(', ')}]`;

function rulesText({ allow, deny }: SubjectRules): string {
  return deny && deny.length > 0 ? `{ allow: ${quoted(allow)}, deny: ${quoted(deny)} }` : `{ allow: ${quoted(allow)} }`;
}

/**
 * The `authorization` block of nats-server's configuration, for the services and the gateway. Passwords
 * are not in it: each is read from an environment variable of the server's process
 * (passwordVariableOf), as a Kubernetes Secret gives it.
 */
export function natsAuthorizationConfig(): string {
  const users = [
    ...NATS_SERVICE_USERS.map((name) => ({ name, permissions: servicePermissions(name) })),
    { name: NATS_GATEWAY_USER, permissions: gatewayPermissions() },
  ];
  const lines = users.map(
    ({ name, permissions }) =>
      `    { user: ${JSON.stringify(name)}, password: $${passwordVariableOf(name)}, permissions: {\n` +
      `        publish: ${rulesText(permissions.publish)}\n` +
      `        subscribe: ${rulesText(permissions.subscribe)}\n` +
      `    } }`,
  );
  return [
    '# Generated from the event owners map (contracts/src/owners.ts) by natsAuthorizationConfig: each service',
    '# may publish only the event types it owns. Passwords come from the environment (one variable per user).',
    'authorization {',
    '  users = [',
    ...lines,
    '  ]',
    '}',
    '',
  ].join('\n');
}
