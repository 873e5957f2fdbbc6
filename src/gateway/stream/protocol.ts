/**
 * The WebSocket protocol of `/api/v1/stream`, shared by the server and the typed client.
 *
 * Client → server: `auth` (when no token was given in the query), `subscribe` (with
 * `resumeFrom`, the last sequence number the client saw, to resume without a gap; or with
 * `snapshot: true` to start from a snapshot of the topics' current state),
 * `unsubscribe`, `ping`.
 * Server → client: `welcome`, `subscribed`, `event` (every one with a sequence number),
 * `snapshot` (asked for, or when a resume point fell out of the replay buffer or its replay
 * would not fit the connection's buffer budget: `orders` the
 * last 500 changed, `positions`, `pnl`, `risk-alerts` the last 200, `actors` the tree, `quotes`
 * the latest per symbol), `error`, `pong`, and a
 * close with code 4008 and a reason when the client is too slow (more than its budget waits
 * for it), or 4029 when it keeps sending past its message rate limit (about 10 a second, 20 at
 * once, a snapshot or resume counting 5; over it each message gets an `error` `rate-limited`).
 * Only pong frames (answers to the server's pings) keep a connection alive; messages do not.
 */

/** Topics a client may subscribe to; quotes are per symbol: `quotes:INFY`. */
export const STATIC_TOPICS = ['orders', 'positions', 'pnl', 'risk-alerts', 'actors'] as const;
/** A topic without a parameter. */
export type StaticTopic = (typeof STATIC_TOPICS)[number];
/** Any topic. */
export type Topic = StaticTopic | `quotes:${string}`;

export type ClientMessage =
  | { readonly type: 'auth'; readonly token: string }
  | { readonly type: 'subscribe'; readonly topics: readonly string[]; readonly resumeFrom?: number; readonly snapshot?: boolean }
  | { readonly type: 'unsubscribe'; readonly topics: readonly string[] }
  | { readonly type: 'ping' };

export interface StreamEventMessage {
  readonly type: 'event';
  /** Strictly increasing over the whole stream (shared by every topic). */
  readonly seq: number;
  readonly topic: string;
  /** What the event is about (order id, position key, symbol…); conflation replaces per key. */
  readonly key: string;
  readonly atMs: number;
  readonly data: unknown;
  /** Present when newer data replaced older events of the same key (slow client, or quotes). */
  readonly conflated?: true;
}

export type ServerMessage =
  | { readonly type: 'welcome'; readonly seq: number; readonly heartbeatMs: number; readonly role: string }
  | { readonly type: 'subscribed'; readonly topics: readonly string[]; readonly seq: number; readonly replayed: number }
  | { readonly type: 'snapshot'; readonly seq: number; readonly reason: string; readonly data: Readonly<Record<string, unknown>> }
  | StreamEventMessage
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | { readonly type: 'pong'; readonly seq: number };

/** Close codes the server uses. */
export const CLOSE_CODES = {
  /** The client does not read fast enough: what waits for it passed its budget (bytes, updates or time). */
  slowConsumer: 4008,
  /** The client kept sending faster than its message rate limit after `error` answers `rate-limited`. */
  rateLimited: 4029,
  unauthenticated: 4401,
  /** The caller's credentials were withdrawn while connected (user disabled, API key revoked): do not reconnect with them. */
  revoked: 4403,
  shuttingDown: 1001,
} as const;
