import { randomBytes } from 'node:crypto';
import { CALLER_NAMES, type CallerName } from '@blog/contracts';
import { NATS_GATEWAY_USER, NATS_SERVICE_USERS, passwordVariableOf } from '@blog/service-kit';
import type { ServiceName } from './serviceProcess';

/**
 * Who may call the bus, each with a token of its own: the blog's services, the client server (read only:
 * the flow page), and the operator (CALLER_NAMES). The bus holds them all (BUS_CREDENTIALS); each service
 * holds only its own (BUS_TOKEN), as one Kubernetes Secret per service does.
 */

export interface Credentials {
  /** Each caller's bus token. */
  tokens: Readonly<Record<CallerName, string>>;
  /** The gateway's NATS password (NATS engine only). */
  gatewayPassword: string;
}

const newToken = (name: string) => `${name}-${randomBytes(18).toString('base64url')}`;

/** Fresh random credentials for one run of the system. */
export function newCredentials(): Credentials {
  const tokens = Object.fromEntries(CALLER_NAMES.map((name) => [name, newToken(name)])) as Record<CallerName, string>;
  return { tokens, gatewayPassword: newToken(NATS_GATEWAY_USER) };
}

/** `name:token,...` as the bus reads BUS_CREDENTIALS. */
export function credentialsList(credentials: Credentials): string {
  return CALLER_NAMES.map((name) => `${name}:${credentials.tokens[name]}`).join(',');
}

/**
 * The variables that give one process its credential: the bus gets the whole map, a service its own
 * token; on NATS each is also a NATS user of its own, with that token as its password.
 */
export function credentialEnv(credentials: Credentials, name: ServiceName, nats: boolean): NodeJS.ProcessEnv {
  if (name === 'event-bus') {
    const bus = { BUS_CREDENTIALS: credentialsList(credentials) };
    return nats ? { ...bus, NATS_USER: NATS_GATEWAY_USER, NATS_PASSWORD: credentials.gatewayPassword } : bus;
  }
  const token = credentials.tokens[name];
  return nats ? { BUS_TOKEN: token, NATS_USER: name, NATS_PASSWORD: token } : { BUS_TOKEN: token };
}

/** What nats-server reads the users' passwords from (its configuration names the variables, not the values). */
export function natsPasswordEnv(credentials: Credentials): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(NATS_SERVICE_USERS.map((name) => [passwordVariableOf(name), credentials.tokens[name]])),
    [passwordVariableOf(NATS_GATEWAY_USER)]: credentials.gatewayPassword,
  };
}
