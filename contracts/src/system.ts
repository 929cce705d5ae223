import type { EventType } from './events';

/**
 * The blog's parts, in the order they start and are listed: the one description of the system. The
 * supervisor (npm start), the test launcher, the flow page's server, the NATS permissions, the bench and
 * the manifests' tests read their names and ports here, and each service's handlers the events it takes
 * in (EVENTS_HANDLED); who publishes each event is EVENT_OWNERS (owners.ts). Adding a service is a line
 * here and in EVENTS_HANDLED, its folder, and its event types' owners.
 */
export const DEFAULT_PORTS = {
  nats: 4222,
  'event-bus': 4005,
  posts: 4000,
  comments: 4001,
  moderation: 4003,
  query: 4002,
  client: 3000,
} as const;

/** Every process a local run starts (nats only on the NATS engine), in start order. */
export type ProcessName = keyof typeof DEFAULT_PORTS;
export const PROCESS_NAMES = Object.keys(DEFAULT_PORTS) as ProcessName[];

/**
 * The services that talk to each other only through events: each subscribes to the bus (or has a
 * durable consumer on NATS), has a credential and a NATS user of its own.
 */
export const BLOG_SERVICES = ['posts', 'comments', 'moderation', 'query'] as const satisfies readonly ProcessName[];
export type BlogServiceName = (typeof BLOG_SERVICES)[number];

/**
 * What each service takes from the log: the events it `applies` to the state it keeps (every replica, in
 * order, and again on replay), and those it `reactsTo` with events of its own (one replica each). Its
 * handlers declare exactly these; on NATS a service that applies reads the stream through a consumer of
 * its own that the gateway does not list, and the flow page draws it from here.
 */
export const EVENTS_HANDLED = {
  posts: { applies: ['PostCreated'], reactsTo: [] },
  comments: { applies: ['PostCreated', 'CommentCreated', 'CommentModerated'], reactsTo: ['CommentModerated'] },
  moderation: { applies: [], reactsTo: ['CommentCreated'] },
  query: { applies: ['PostCreated', 'CommentCreated', 'CommentUpdated'], reactsTo: [] },
} as const satisfies Record<BlogServiceName, { applies: readonly EventType[]; reactsTo: readonly EventType[] }>;

/** The bus and the blog's services: what a test system or the flow page shows as boxes. */
export const SERVICE_NAMES = ['event-bus', ...BLOG_SERVICES] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Everyone who may call the bus: the services, the client server (reads only) and the operator. */
export const CALLER_NAMES = [...BLOG_SERVICES, 'client', 'operator'] as const;
export type CallerName = (typeof CALLER_NAMES)[number];

/** The two event engines behind the one port: the embedded bus (a SQLite log) and NATS JetStream. */
export const ENGINE_NAMES = ['embedded', 'nats'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
