/**
 * Sizes every service and the bus agree on. Each is written here once; the schemas, the body readers and
 * the bus client read them from here.
 */

/** Longest id any publisher may use; ours are UUIDs. */
export const MAX_ID_LENGTH = 100;

/**
 * What an event's id may be: visible ASCII (no space or control character), so it travels as a NATS
 * message header (Nats-Msg-Id) as well as in JSON.
 */
export const EVENT_ID_PATTERN = /^[\x21-\x7e]{1,100}$/;

/**
 * What an event's type may be: letters, digits, `_` and `-`, in parts joined by single dots (CloudEvents'
 * `com.example.Thing`), at most 200: each part is one token of the NATS subject the type is stored under
 * (`blog.events.<type>`), which must not be empty nor hold a space or a wildcard.
 */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
export const MAX_EVENT_TYPE_LENGTH = 200;

/**
 * What a post's or comment's id may be: letters, digits, `-` and `_`, starting with a letter or digit,
 * at most MAX_ID_LENGTH. UUIDs and the course's hex ids fit; `__proto__`, slashes, `%`, spaces and
 * control characters do not, so an id is always safe in a URL path and in a log line. Names such as
 * `constructor` still fit, which is why ids only ever index Maps, never plain objects.
 */
export const ENTITY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** Most problems one error answer lists; the rest are counted (a 1 MiB body must not get a 40 MB answer). */
export const MAX_ERROR_DETAILS = 10;
export const MAX_TITLE_LENGTH = 200;
export const MAX_COMMENT_LENGTH = 2000;

/** Largest body of a public API request (a post or a comment is a few KiB at most). */
export const API_BODY_LIMIT_BYTES = 16 * 1024;

/** Largest body of the event traffic: a publish to the bus or a delivery to a service, one event or a batch. */
export const EVENTS_BODY_LIMIT_BYTES = 1024 * 1024;

/** Most events in one publish (a request, or a delivery's follow-ups) and in one delivery. */
export const MAX_EVENT_BATCH = 1000;

/**
 * Deepest nesting of objects and arrays a JSON body may have. Ours need five levels at most; a body of a
 * few KiB of `[[[[...` is far deeper, and although it parses, JSON.stringify and structured cloning (the
 * bus hands events to its writer thread) overflow the stack on it later, in code that does not expect to
 * fail. So such bodies are refused at the door.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * How far behind the log a replica that keeps state may be and still answer ready: it must have applied
 * everything the log held this long ago. A time, not a count of events, so a replica under steady load
 * (behind by a few events, by milliseconds) stays ready, and one whose feed stopped leaves the load
 * balancer within seconds.
 */
export const READY_GRACE_MS = 5_000;

/**
 * Largest event, serialized as stored: the largest legitimate one is a comment's verdict carrying a
 * MAX_COMMENT_LENGTH comment of characters JSON must escape (6 bytes each, 12,000 bytes), with its ids
 * and envelope, about 13 KB.
 */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * Most bytes of events one read of the log returns (a replay page, `GET /events`, the flow page's feed):
 * a page is cut at whichever comes first, this or its count, so no read builds one giant answer.
 */
export const READ_PAGE_MAX_BYTES = 1024 * 1024;

/**
 * What one page load of the blog (GET /posts, the read model) may weigh: the newest posts that fit, each
 * with its newest VIEW_COMMENTS_PER_POST comments; the rest is reached by asking for older posts (`GET
 * /posts?before=<post id>`) or earlier comments (`GET /posts/<id>/comments?before=<comment id>`). A blog
 * of ordinary size fits whole, in the course's shape.
 */
export const VIEW_MAX_BYTES = 1024 * 1024;
export const VIEW_COMMENTS_PER_POST = 100;

/**
 * How a client retries a write sent with an Idempotency-Key when it got no answer, a refused connection,
 * 502, 503, 504 or 409: a doubling wait from the first to the most, giving up after about a minute
 * (longer than a service takes to restart). The page does it; the chaos runs' keyed clients do the same.
 */
export const WRITE_RETRY = { giveUpAfterMs: 60_000, firstWaitMs: 500, maxWaitMs: 5_000 } as const;

/** The statuses a keyed write is sent again after (with no answer at all, or a refused connection). */
export const RETRIED_WRITE_STATUSES: readonly number[] = [409, 502, 503, 504];
