import type { WebSocket } from 'ws';
import type { Metrics } from '../../runtime/metrics.js';
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
  /** Conflated entries waiting for a congested client before it is disconnected (default 5,000). */
  readonly maxQueuedPerClient?: number;
  /** How long a client may stay congested before it is disconnected (default 10 s). */
  readonly maxCongestedMs?: number;
  /** Current state per topic, for clients whose resume point is no longer in the buffer. */
  readonly snapshot: (topics: readonly string[]) => Readonly<Record<string, unknown>>;
  /** Whether a `quotes:<SYMBOL>` symbol exists. */
  readonly knownSymbol: (symbol: string) => boolean;
  readonly metrics?: Metrics;
  readonly nowMs?: () => number;
  /** Called when a connection ends (tests and logs). */
  readonly onDisconnect?: (info: { readonly id: number; readonly reason: string }) => void;
}

interface Connection {
  readonly id: number;
  readonly socket: HubSocket;
  readonly principal: Principal;
  readonly topics: Set<string>;
  alive: boolean;
  /** Set while congested: latest message per topic/key, oldest first. */
  queue: Map<string, Buffer> | undefined;
  congestedSinceMs: number;
  closed: boolean;
}

interface Retained {
  readonly seq: number;
  readonly topic: string;
  readonly payload: Buffer;
}

const OPEN = 1;

function topicFamily(topic: string): string {
  return topic.startsWith('quotes:') ? 'quotes' : topic;
}

/**
 * Fan-out of domain events to WebSocket clients. Publishing never blocks and never waits
 * for a client: each event is serialised once and written to every subscribed socket; a
 * socket whose buffer grows past the soft limit is switched to a conflated queue (latest
 * per key), and disconnected with reason `slow-consumer` when the queue or the time
 * congested passes its bound. Every event carries a sequence number; the last
 * `replayCapacity` events are kept so a reconnecting client resumes without a gap, and a
 * client whose resume point fell out of the buffer gets a snapshot instead.
 */
export class StreamHub {
  private readonly connections = new Map<number, Connection>();
  private readonly ring: (Retained | undefined)[];
  private ringStart = 0;
  private ringSize = 0;
  private seq = 0;
  /** Highest sequence number that fell out of the ring (resume points below it get a snapshot). */
  private evictedUpTo = 0;
  private nextId = 1;
  private readonly latestQuotes = new Map<string, unknown>();
  private readonly dirtyQuotes = new Set<string>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly quoteTimer: NodeJS.Timeout;
  private readonly drainTimer: NodeJS.Timeout;
  private readonly softBufferBytes: number;
  private readonly maxQueued: number;
  private readonly maxCongestedMs: number;
  private readonly now: () => number;

  constructor(private readonly options: StreamHubOptions) {
    this.ring = new Array<Retained | undefined>(options.replayCapacity ?? 10_000);
    this.softBufferBytes = options.softBufferBytes ?? 1024 * 1024;
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
    const message: StreamEventMessage = { type: 'event', seq: this.seq, topic, key, atMs: this.now(), data };
    const payload = Buffer.from(JSON.stringify(message));
    this.retain({ seq: this.seq, topic, payload });
    if (this.connections.size > 0) {
      const family = topicFamily(topic);
      for (const connection of this.connections.values()) {
        if (connection.topics.has(topic)) this.deliver(connection, `${topic}|${key}`, payload, family);
      }
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
      const message: StreamEventMessage = { type: 'event', seq: this.seq, topic, key: symbol, atMs: this.now(), data: this.latestQuotes.get(symbol), conflated: true };
      const payload = Buffer.from(JSON.stringify(message));
      for (const connection of this.connections.values()) if (connection.topics.has(topic)) this.deliver(connection, `${topic}|${symbol}`, payload, 'quotes');
    }
    this.dirtyQuotes.clear();
  }

  private deliver(connection: Connection, conflationKey: string, payload: Buffer, family: string): void {
    if (connection.closed) return;
    if (connection.queue === undefined && connection.socket.bufferedAmount <= this.softBufferBytes) {
      connection.socket.send(payload, { binary: false });
      this.options.metrics?.wsMessagesSent.inc({ topic: family });
      return;
    }
    if (connection.queue === undefined) {
      connection.queue = new Map();
      connection.congestedSinceMs = this.now();
    }
    if (connection.queue.delete(conflationKey)) this.options.metrics?.wsConflated.inc();
    connection.queue.set(conflationKey, payload);
    if (connection.queue.size > this.maxQueued) this.disconnect(connection, CLOSE_CODES.slowConsumer, `slow-consumer: more than ${this.maxQueued} updates waiting`);
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
      for (const [key, payload] of queue) {
        if (connection.socket.bufferedAmount > this.softBufferBytes) break;
        queue.delete(key);
        connection.socket.send(payload, { binary: false });
        this.options.metrics?.wsMessagesSent.inc({ topic: topicFamily(key.split('|')[0] ?? '') });
      }
      if (queue.size === 0) connection.queue = undefined;
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

  private sendControl(connection: Connection, message: ServerMessage): void {
    if (!connection.closed && connection.socket.readyState === OPEN) connection.socket.send(JSON.stringify(message));
  }

  /**
   * Takes over an authenticated socket. `pending`: what the client sent while it was being
   * authenticated (a client may subscribe right after connecting), handled in order after the welcome.
   */
  attach(socket: HubSocket, principal: Principal, pending: readonly string[] = []): number {
    const connection: Connection = { id: this.nextId++, socket, principal, topics: new Set(), alive: true, queue: undefined, congestedSinceMs: 0, closed: false };
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
      connection.alive = true;
      this.options.metrics?.wsMessagesReceived.inc();
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      this.onClientMessage(connection, text);
    });
    this.sendControl(connection, { type: 'welcome', seq: this.seq, heartbeatMs: this.options.heartbeatMs, role: principal.role });
    for (const text of pending) if (!connection.closed) this.onClientMessage(connection, text);
    return connection.id;
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
      return this.sendControl(connection, { type: 'error', code: 'invalid-json', message: 'messages must be JSON' });
    }
    if (typeof message !== 'object' || message === null) return this.sendControl(connection, { type: 'error', code: 'invalid-message', message: 'messages must be JSON objects with a type' });
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
        for (const topic of topics) connection.topics.add(topic);
        let replayed = 0;
        if (resumeFrom !== undefined && resumeFrom !== this.seq) {
          if (resumeFrom >= this.evictedUpTo && resumeFrom < this.seq) {
            this.sendControl(connection, { type: 'subscribed', topics: [...connection.topics], seq: this.seq, replayed: 0 });
            const wanted = new Set(topics);
            for (let i = 0; i < this.ringSize; i += 1) {
              const entry = this.ring[(this.ringStart + i) % this.ring.length]!;
              if (entry.seq > resumeFrom && wanted.has(entry.topic)) {
                connection.socket.send(entry.payload, { binary: false });
                replayed += 1;
              }
            }
            this.options.metrics?.wsReplayed.inc(replayed);
          } else {
            this.sendControl(connection, { type: 'subscribed', topics: [...connection.topics], seq: this.seq, replayed: 0 });
            this.sendControl(connection, {
              type: 'snapshot',
              seq: this.seq,
              reason:
                resumeFrom > this.seq
                  ? `resume point ${resumeFrom} is ahead of this server (${this.seq}): it restarted`
                  : `resume point ${resumeFrom} is older than the replay buffer (from ${this.evictedUpTo + 1})`,
              data: this.options.snapshot(topics),
            });
          }
        } else {
          this.sendControl(connection, { type: 'subscribed', topics: [...connection.topics], seq: this.seq, replayed: 0 });
          if (message.snapshot === true) this.sendControl(connection, { type: 'snapshot', seq: this.seq, reason: 'asked for', data: this.options.snapshot(topics) });
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
