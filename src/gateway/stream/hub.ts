import type { WebSocket } from 'ws';
import type { Metrics } from '../../observability/metrics.js';
import type { Principal } from '../auth/auth-service.js';
import { CLOSE_CODES, STATIC_TOPICS, type ClientMessage, type ServerMessage, type StreamEventMessage } from './protocol.js';

/** The sockets the hub serves (`ws` WebSockets). */
export type HubSocket = WebSocket;

/** Bounds and sources of a {@link StreamHub}. */
export interface StreamHubOptions {
  /** Events kept for resuming clients (default 10,000). */
  readonly replayCapacity?: number;
  /** Heartbeat period: ping every period, close a connection that did not pong since the last one. */
  readonly heartbeatMs: number;
  /** Quotes are sent at most this often per symbol, latest wins (default 250 ms). */
  readonly quoteIntervalMs?: number;
  /** Above this many bytes waiting in a socket, the client is congested and gets conflated (default 1 MiB). */
  readonly softBufferBytes?: number;
  /**
   * A connection's budget: bytes buffered for it (`bufferedAmount` of its socket plus what the hub
   * queued for it) beyond which it is closed with 4008 `slow-consumer` (default 8 MiB).
   */
  readonly maxBufferedBytes?: number;
  /** Conflated entries waiting for a congested client before it is disconnected (default 5,000). */
  readonly maxQueuedPerClient?: number;
  /** How long a client may stay congested before it is disconnected (default 10 s). */
  readonly maxCongestedMs?: number;
  /** Client messages a connection may send per second on average (token bucket; default 10). */
  readonly messagesPerSecond?: number;
  /** Client messages a connection may send at once (the bucket's size; default 20). A subscribe with a snapshot or a resume costs {@link SNAPSHOT_COST}. */
  readonly messageBurst?: number;
  /** Messages refused in a row (before the bucket is full again) after which the connection is closed with 4029 (default 20). */
  readonly maxRefusedMessages?: number;
  /** Current state per topic, for clients whose resume point is no longer in the buffer. */
  readonly snapshot: (topics: readonly string[]) => Readonly<Record<string, unknown>>;
  /** Whether a `quotes:<SYMBOL>` symbol exists. */
  readonly knownSymbol: (symbol: string) => boolean;
  readonly metrics?: Metrics;
  readonly nowMs?: () => number;
  /** Called when a connection ends (tests and logs). */
  readonly onDisconnect?: (info: { readonly id: number; readonly reason: string }) => void;
}

/** Tokens a subscribe asking for a snapshot or a replay takes from the bucket (a plain message takes 1). */
export const SNAPSHOT_COST = 5;

/**
 * What waits for a congested client: a serialised message (a `Buffer` made once for a live
 * event's subscribers, or the retained string of a replayed one), or a snapshot made only when it can be sent.
 */
type Pending =
  | { readonly kind: 'message'; readonly topic: string | undefined; readonly payload: Buffer | string; readonly bytes: number }
  | { readonly kind: 'snapshot'; readonly topics: readonly string[]; readonly reason: string };

interface Connection {
  readonly id: number;
  readonly socket: HubSocket;
  readonly principal: Principal;
  readonly topics: Set<string>;
  /** Set by a pong (and only by a pong): what a client sends says nothing of whether it reads. */
  alive: boolean;
  /** Set while congested: latest entry per key (topic|key, a snapshot's topics, a control answer's type), oldest first. */
  queue: Map<string, Pending> | undefined;
  /** Bytes of the messages in {@link queue}. */
  queuedBytes: number;
  congestedSinceMs: number;
  /** Token bucket of the client's messages. */
  tokens: number;
  refilledAtMs: number;
  /** Messages refused since the bucket was last full. */
  refused: number;
  closed: boolean;
}

/**
 * An event kept for resuming clients. The payload is the JSON string: a `Buffer` here would be a
 * small slice pinning an 8 KB pool slab for as long as the event is kept.
 */
interface Retained {
  readonly seq: number;
  readonly topic: string;
  readonly key: string;
  readonly payload: string;
}

function pendingBytes(entry: Pending): number {
  return entry.kind === 'message' ? entry.bytes : 0;
}

function messageEntry(topic: string | undefined, payload: Buffer | string): Pending {
  return { kind: 'message', topic, payload, bytes: typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length };
}

const OPEN = 1;

function topicFamily(topic: string): string {
  return topic.startsWith('quotes:') ? 'quotes' : topic;
}

/**
 * Fan-out of domain events to WebSocket clients. Publishing never blocks and never waits
 * for a client: each event is serialised once and written to every subscribed socket.
 *
 * Every write to a client (events, replays, snapshots, control answers) goes through one
 * budget: a socket whose buffer grows past the soft limit is switched to a conflated queue
 * (latest per key; a snapshot waits as a request, made when it can be sent, and the latest
 * per set of topics wins), and the client is disconnected with 4008 `slow-consumer` when the
 * bytes buffered for it (socket plus queue), the queue's length or the time congested pass
 * their bound. What a client sends is rate-limited (token bucket; a snapshot costs more):
 * over it, an `error` answer `rate-limited`, and a close with 4029 when it keeps on. Only
 * pongs prove a client alive. Every event carries a sequence number; the last
 * `replayCapacity` events are kept so a reconnecting client resumes without a gap, and a
 * client whose resume point fell out of the buffer (or whose replay would not fit its
 * budget) gets a snapshot instead. An event of a topic no connection has subscribed to yet
 * since the hub started is neither serialised nor kept (only its sequence number is taken):
 * nobody can receive it, and a resume point before it gets a snapshot of that topic.
 */
export class StreamHub {
  private readonly connections = new Map<number, Connection>();
  private readonly ring: (Retained | undefined)[];
  private ringStart = 0;
  private ringSize = 0;
  private seq = 0;
  /** Highest sequence number that fell out of the ring (resume points below it get a snapshot). */
  private evictedUpTo = 0;
  /** Topics a connection has subscribed to since the hub started: their events are kept. */
  private readonly retainedTopics = new Set<string>();
  /** Per topic not (yet) retained, the last sequence number of its events that were dropped (resume points below it get a snapshot). */
  private readonly droppedUpTo = new Map<string, number>();
  private nextId = 1;
  private readonly latestQuotes = new Map<string, unknown>();
  private readonly dirtyQuotes = new Set<string>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly quoteTimer: NodeJS.Timeout;
  private readonly drainTimer: NodeJS.Timeout;
  private readonly softBufferBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly maxQueued: number;
  private readonly maxCongestedMs: number;
  private readonly messagesPerSecond: number;
  private readonly messageBurst: number;
  private readonly maxRefused: number;
  private readonly now: () => number;

  constructor(private readonly options: StreamHubOptions) {
    this.ring = new Array<Retained | undefined>(options.replayCapacity ?? 10_000);
    this.softBufferBytes = options.softBufferBytes ?? 1024 * 1024;
    this.maxBufferedBytes = Math.max(options.maxBufferedBytes ?? 8 * 1024 * 1024, this.softBufferBytes);
    this.messagesPerSecond = options.messagesPerSecond ?? 10;
    this.messageBurst = Math.max(options.messageBurst ?? 20, SNAPSHOT_COST);
    this.maxRefused = options.maxRefusedMessages ?? 20;
    this.maxQueued = options.maxQueuedPerClient ?? 5_000;
    this.maxCongestedMs = options.maxCongestedMs ?? 10_000;
    this.now = options.nowMs ?? Date.now;
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.quoteTimer = setInterval(() => this.flushQuotes(), options.quoteIntervalMs ?? 250);
    this.drainTimer = setInterval(() => this.drainCongested(), 20);
    this.heartbeat.unref();
    this.quoteTimer.unref();
    this.drainTimer.unref();
  }

  /** Connected clients. */
  get clients(): number {
    return this.connections.size;
  }

  /** The last sequence number handed out. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Publishes an event on a topic; `key` says what it is about (conflation replaces per key). */
  publish(topic: string, key: string, data: unknown): number {
    this.seq += 1;
    if (!this.retainedTopics.has(topic)) {
      // no connection ever subscribed to it: nobody receives this event or can resume to it
      this.droppedUpTo.set(topic, this.seq);
      return this.seq;
    }
    const message: StreamEventMessage = { type: 'event', seq: this.seq, topic, key, atMs: this.now(), data };
    const text = JSON.stringify(message);
    this.retain({ seq: this.seq, topic, key, payload: text });
    let entry: Pending | undefined;
    let conflationKey = '';
    for (const connection of this.connections.values()) {
      if (!connection.topics.has(topic)) continue;
      if (entry === undefined) {
        // one Buffer for all the subscribers (a string would be encoded again per socket)
        entry = messageEntry(topic, Buffer.from(text));
        conflationKey = `${topic}|${key}`;
      }
      this.write(connection, conflationKey, entry);
    }
    return this.seq;
  }

  /** Records the latest quote of a symbol; subscribers get it at the next quote flush (latest wins). */
  offerQuote(symbol: string, quote: unknown): void {
    this.latestQuotes.set(symbol, quote);
    this.dirtyQuotes.add(symbol);
  }

  private retain(entry: Retained): void {
    const capacity = this.ring.length;
    if (this.ringSize === capacity) {
      const evicted = this.ring[this.ringStart];
      if (evicted) this.evictedUpTo = evicted.seq;
      this.ring[this.ringStart] = entry;
      this.ringStart = (this.ringStart + 1) % capacity;
    } else {
      this.ring[(this.ringStart + this.ringSize) % capacity] = entry;
      this.ringSize += 1;
    }
  }

  private flushQuotes(): void {
    if (this.dirtyQuotes.size === 0) return;
    for (const symbol of this.dirtyQuotes) {
      const topic = `quotes:${symbol}`;
      let subscribed = false;
      for (const connection of this.connections.values()) if (connection.topics.has(topic)) subscribed = true;
      if (!subscribed) continue;
      // quotes take a sequence number but are not retained: a resuming client gets the latest one instead
      this.seq += 1;
      const message: StreamEventMessage = {
        type: 'event',
        seq: this.seq,
        topic,
        key: symbol,
        atMs: this.now(),
        data: this.latestQuotes.get(symbol),
        conflated: true,
      };
      const entry = messageEntry(topic, Buffer.from(JSON.stringify(message)));
      for (const connection of this.connections.values()) if (connection.topics.has(topic)) this.write(connection, `${topic}|${symbol}`, entry);
    }
    this.dirtyQuotes.clear();
  }

  /**
   * The one way anything reaches a client: sent now while its socket holds at most the soft
   * limit, else queued (latest per `conflationKey`) until it drains; a client over its budget is closed.
   */
  private write(connection: Connection, conflationKey: string, entry: Pending): void {
    if (connection.closed) return;
    if (connection.queue === undefined && connection.socket.bufferedAmount <= this.softBufferBytes) {
      this.sendNow(connection, entry);
      return;
    }
    if (connection.queue === undefined) {
      connection.queue = new Map();
      connection.congestedSinceMs = this.now();
    }
    const replaced = connection.queue.get(conflationKey);
    if (replaced !== undefined) {
      connection.queue.delete(conflationKey);
      connection.queuedBytes -= pendingBytes(replaced);
      this.options.metrics?.wsConflated.inc();
    }
    connection.queue.set(conflationKey, entry);
    connection.queuedBytes += pendingBytes(entry);
    if (connection.queue.size > this.maxQueued)
      this.disconnect(connection, CLOSE_CODES.slowConsumer, `slow-consumer: more than ${this.maxQueued} updates waiting`);
    else this.checkBudget(connection);
  }

  private checkBudget(connection: Connection): void {
    const buffered = connection.socket.bufferedAmount + connection.queuedBytes;
    if (buffered > this.maxBufferedBytes)
      this.disconnect(connection, CLOSE_CODES.slowConsumer, `slow-consumer: more than ${this.maxBufferedBytes} bytes buffered`);
  }

  private sendNow(connection: Connection, entry: Pending): void {
    if (connection.closed || connection.socket.readyState !== OPEN) return;
    if (entry.kind === 'message') {
      connection.socket.send(entry.payload, { binary: false });
      if (entry.topic !== undefined) this.options.metrics?.wsMessagesSent.inc({ topic: topicFamily(entry.topic) });
    } else {
      const message: ServerMessage = { type: 'snapshot', seq: this.seq, reason: entry.reason, data: this.options.snapshot(entry.topics) };
      connection.socket.send(JSON.stringify(message));
    }
    this.checkBudget(connection);
  }

  private drainCongested(): void {
    const now = this.now();
    for (const connection of this.connections.values()) {
      const queue = connection.queue;
      if (!queue) continue;
      if (now - connection.congestedSinceMs > this.maxCongestedMs) {
        this.disconnect(connection, CLOSE_CODES.slowConsumer, `slow-consumer: congested for more than ${this.maxCongestedMs} ms`);
        continue;
      }
      for (const [key, entry] of queue) {
        if (connection.closed || connection.socket.bufferedAmount > this.softBufferBytes) break;
        queue.delete(key);
        connection.queuedBytes -= pendingBytes(entry);
        if (entry.kind === 'snapshot') {
          // the snapshot is made now: the events of its topics still waiting are older, and in it
          for (const [otherKey, other] of queue) {
            if (other.kind !== 'message' || other.topic === undefined || !entry.topics.includes(other.topic)) continue;
            queue.delete(otherKey);
            connection.queuedBytes -= other.bytes;
            this.options.metrics?.wsConflated.inc();
          }
        }
        this.sendNow(connection, entry);
      }
      if (queue.size === 0 && !connection.closed) connection.queue = undefined;
    }
  }

  private beat(): void {
    for (const connection of this.connections.values()) {
      if (!connection.alive) {
        this.disconnect(connection, undefined, 'heartbeat-timeout');
        continue;
      }
      connection.alive = false;
      try {
        connection.socket.ping();
      } catch {
        this.disconnect(connection, undefined, 'ping-failed');
      }
    }
  }

  private disconnect(connection: Connection, code: number | undefined, reason: string): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.queue = undefined;
    connection.queuedBytes = 0;
    this.connections.delete(connection.id);
    this.options.metrics?.wsDisconnects.inc({ reason: reason.split(':')[0] ?? reason });
    if (code === undefined) connection.socket.terminate();
    else {
      connection.socket.close(code, reason.slice(0, 120));
      // a client that does not read will not answer the close handshake either
      setTimeout(() => connection.socket.terminate(), 1000).unref();
    }
    this.options.onDisconnect?.({ id: connection.id, reason });
  }

  /** A control answer, through the connection's budget: a congested client gets the latest of each kind. */
  private sendControl(connection: Connection, message: Exclude<ServerMessage, { type: 'snapshot' | 'event' }>): void {
    if (connection.closed) return;
    const key = message.type === 'error' ? `control|error|${message.code}` : `control|${message.type}`;
    this.write(connection, key, messageEntry(undefined, JSON.stringify(message)));
  }

  /** A snapshot of `topics`, through the connection's budget (made when it can be sent; the latest per set of topics wins). */
  private sendSnapshot(connection: Connection, topics: readonly string[], reason: string): void {
    this.write(connection, `snapshot|${[...topics].sort().join(',')}`, { kind: 'snapshot', topics, reason });
  }

  /**
   * Takes a message's cost from the connection's bucket. False when the bucket is short: the
   * client gets an `error` answer, and is closed with 4029 after {@link maxRefused} refusals in a row.
   */
  private admit(connection: Connection, cost: number): boolean {
    const now = this.now();
    connection.tokens = Math.min(this.messageBurst, connection.tokens + ((now - connection.refilledAtMs) * this.messagesPerSecond) / 1000);
    connection.refilledAtMs = now;
    if (connection.tokens >= this.messageBurst) connection.refused = 0;
    if (connection.tokens >= cost) {
      connection.tokens -= cost;
      return true;
    }
    connection.refused += 1;
    this.options.metrics?.wsRateLimited.inc();
    if (connection.refused > this.maxRefused) {
      this.disconnect(connection, CLOSE_CODES.rateLimited, `rate-limited: more than ${this.messagesPerSecond} messages a second`);
      return false;
    }
    this.sendControl(connection, {
      type: 'error',
      code: 'rate-limited',
      message: `more than ${this.messagesPerSecond} messages a second (at once ${this.messageBurst}; a snapshot or a resume counts ${SNAPSHOT_COST}): this one was ignored; keep on and the connection is closed`,
    });
    return false;
  }

  /**
   * Takes over an authenticated socket. `pending`: what the client sent while it was being
   * authenticated (a client may subscribe right after connecting), handled in order after the welcome.
   */
  attach(socket: HubSocket, principal: Principal, pending: readonly string[] = []): number {
    const connection: Connection = {
      id: this.nextId++,
      socket,
      principal,
      topics: new Set(),
      alive: true,
      queue: undefined,
      queuedBytes: 0,
      congestedSinceMs: 0,
      tokens: this.messageBurst,
      refilledAtMs: this.now(),
      refused: 0,
      closed: false,
    };
    this.connections.set(connection.id, connection);
    socket.on('pong', () => (connection.alive = true));
    socket.on('close', () => {
      if (!connection.closed) {
        connection.closed = true;
        this.connections.delete(connection.id);
        this.options.metrics?.wsDisconnects.inc({ reason: 'client-closed' });
        this.options.onDisconnect?.({ id: connection.id, reason: 'client-closed' });
      }
    });
    socket.on('message', (data) => {
      if (connection.closed) return;
      this.options.metrics?.wsMessagesReceived.inc();
      const text = Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data).toString('utf8');
      this.onClientMessage(connection, text);
    });
    this.sendControl(connection, { type: 'welcome', seq: this.seq, heartbeatMs: this.options.heartbeatMs, role: principal.role });
    for (const text of pending) if (!connection.closed) this.onClientMessage(connection, text);
    return connection.id;
  }

  /** The retained events of `wanted` after `resumeFrom` as messages to send, and their size. */
  private replayFor(
    resumeFrom: number,
    wanted: ReadonlySet<string>,
  ): { readonly entries: (Retained & { readonly message: Pending })[]; readonly bytes: number } {
    const entries: (Retained & { readonly message: Pending })[] = [];
    let bytes = 0;
    for (let i = 0; i < this.ringSize; i += 1) {
      const entry = this.ring[(this.ringStart + i) % this.ring.length]!;
      if (entry.seq > resumeFrom && wanted.has(entry.topic)) {
        const message = messageEntry(entry.topic, entry.payload);
        entries.push({ ...entry, message });
        bytes += pendingBytes(message);
      }
    }
    return { entries, bytes };
  }

  /** The oldest resume point from which the events of `topics` can be replayed (older ones get a snapshot). */
  private replayableFrom(topics: readonly string[]): number {
    let from = this.evictedUpTo;
    for (const topic of topics) from = Math.max(from, this.droppedUpTo.get(topic) ?? 0);
    return from;
  }

  private validTopic(topic: unknown): topic is string {
    if (typeof topic !== 'string') return false;
    if ((STATIC_TOPICS as readonly string[]).includes(topic)) return true;
    return topic.startsWith('quotes:') && this.options.knownSymbol(topic.slice('quotes:'.length));
  }

  private onClientMessage(connection: Connection, text: string): void {
    let message: ClientMessage;
    try {
      message = JSON.parse(text) as ClientMessage;
    } catch {
      if (this.admit(connection, 1)) this.sendControl(connection, { type: 'error', code: 'invalid-json', message: 'messages must be JSON' });
      return;
    }
    const costly =
      typeof message === 'object' && message !== null && message.type === 'subscribe' && (message.snapshot === true || message.resumeFrom !== undefined);
    if (!this.admit(connection, costly ? SNAPSHOT_COST : 1)) return;
    if (typeof message !== 'object' || message === null)
      return this.sendControl(connection, { type: 'error', code: 'invalid-message', message: 'messages must be JSON objects with a type' });
    switch (message.type) {
      case 'ping':
        return this.sendControl(connection, { type: 'pong', seq: this.seq });
      case 'auth':
        return this.sendControl(connection, { type: 'error', code: 'already-authenticated', message: 'this connection is authenticated' });
      case 'subscribe': {
        const raw: unknown = message.topics;
        const given: unknown[] = Array.isArray(raw) ? (raw as unknown[]) : [];
        const topics: string[] = given.filter((topic): topic is string => this.validTopic(topic));
        const bad = given.filter((topic) => !this.validTopic(topic));
        if (bad.length > 0 || topics.length === 0) {
          return this.sendControl(connection, {
            type: 'error',
            code: 'invalid-topic',
            message: `unknown topics: ${bad.map((topic) => JSON.stringify(topic)).join(', ') || '(none given)'}; use ${STATIC_TOPICS.join(', ')} or quotes:<SYMBOL>`,
          });
        }
        const resumeFrom = message.resumeFrom;
        if (resumeFrom !== undefined && (typeof resumeFrom !== 'number' || !Number.isInteger(resumeFrom) || resumeFrom < 0)) {
          return this.sendControl(connection, { type: 'error', code: 'invalid-resume', message: 'resumeFrom must be a non-negative integer sequence number' });
        }
        for (const topic of topics) {
          connection.topics.add(topic);
          this.retainedTopics.add(topic);
        }
        const replayableFrom = this.replayableFrom(topics);
        const subscribed = (): void => this.sendControl(connection, { type: 'subscribed', topics: [...connection.topics], seq: this.seq, replayed: 0 });
        if (resumeFrom !== undefined && resumeFrom !== this.seq) {
          const replay = resumeFrom >= replayableFrom && resumeFrom < this.seq ? this.replayFor(resumeFrom, new Set(topics)) : undefined;
          const room = this.maxBufferedBytes - connection.socket.bufferedAmount - connection.queuedBytes;
          subscribed();
          if (replay !== undefined && replay.bytes <= room) {
            for (const entry of replay.entries) this.write(connection, `${entry.topic}|${entry.key}`, entry.message);
            this.options.metrics?.wsReplayed.inc(replay.entries.length);
          } else {
            this.sendSnapshot(
              connection,
              topics,
              replay !== undefined
                ? `the ${replay.entries.length} events since ${resumeFrom} (${replay.bytes} bytes) do not fit this connection's buffer (${Math.max(0, room)} bytes left)`
                : resumeFrom > this.seq
                  ? `resume point ${resumeFrom} is ahead of this server (${this.seq}): it restarted`
                  : `resume point ${resumeFrom} is older than the replay buffer (from ${replayableFrom + 1})`,
            );
          }
        } else {
          subscribed();
          if (message.snapshot === true) this.sendSnapshot(connection, topics, 'asked for');
        }
        // quotes: the latest one at once
        for (const topic of topics) {
          if (!topic.startsWith('quotes:')) continue;
          const symbol = topic.slice('quotes:'.length);
          if (this.latestQuotes.has(symbol)) this.dirtyQuotes.add(symbol);
        }
        return;
      }
      case 'unsubscribe':
        for (const topic of Array.isArray(message.topics) ? (message.topics as unknown[]) : []) if (typeof topic === 'string') connection.topics.delete(topic);
        return this.sendControl(connection, { type: 'subscribed', topics: [...connection.topics], seq: this.seq, replayed: 0 });
      default:
        return this.sendControl(connection, { type: 'error', code: 'invalid-message', message: 'type must be subscribe, unsubscribe or ping' });
    }
  }

  /**
   * Closes, with code 4403 and `reason`, every connection whose caller matches (a user an admin
   * disabled, an API key that was revoked): a stream does not outlive its credentials. Returns how many.
   */
  disconnectWhere(matches: (principal: Principal) => boolean, reason: string): number {
    let closed = 0;
    for (const connection of [...this.connections.values()]) {
      if (!matches(connection.principal)) continue;
      this.disconnect(connection, CLOSE_CODES.revoked, reason);
      closed += 1;
    }
    return closed;
  }

  /** Closes every connection (shutdown) and stops the timers. */
  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.quoteTimer);
    clearInterval(this.drainTimer);
    for (const connection of [...this.connections.values()]) this.disconnect(connection, CLOSE_CODES.shuttingDown, 'server-shutting-down');
  }
}
