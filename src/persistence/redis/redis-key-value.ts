/**
 * {@link KeyValueStore} on Redis 7 through ioredis. Every key gets the configured prefix.
 * Commands fail fast while Redis is unreachable (no offline queue, one retry) so callers can
 * degrade instead of hanging; the client reconnects by itself in the background.
 */
import { Redis } from 'ioredis';
import { fenceKey, leaseKey, type KeyValueStore, type Lease } from '../key-value.js';

/** Redis cannot be reached. */
export class RedisUnavailableError extends Error {
  constructor(
    readonly target: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`redis at ${target} is unavailable: ${reason}`, options);
    this.name = 'RedisUnavailableError';
  }
}

/** Options of {@link connectRedis}. */
export interface RedisOptions {
  /** Prefix of every key (config `persistence.redisKeyPrefix`). */
  readonly keyPrefix: string;
  /** Per-command timeout (default 2000 ms). */
  readonly commandTimeoutMs?: number;
  /** Connect timeout (default 2000 ms). */
  readonly connectTimeoutMs?: number;
}

/** `host:port` of a Redis URL, for messages. */
export function redisTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'the configured REDIS_URL';
  }
}

/**
 * An ioredis client that fails fast when Redis is down and keeps reconnecting (every ≤ 1 s).
 * Resolves once connected; rejects with {@link RedisUnavailableError} when the first connect fails.
 */
export async function connectRedis(url: string, options: RedisOptions): Promise<Redis> {
  const client = new Redis(url, {
    keyPrefix: options.keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
  // Errors surface on commands; without a listener ioredis would print every reconnect failure.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new RedisUnavailableError(redisTarget(url), error instanceof Error ? error.message : String(error), { cause: error });
  }
  return client;
}

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
if token <= tonumber(ARGV[3]) then
  token = tonumber(ARGV[3]) + 1
  redis.call('SET', KEYS[2], token)
end
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token`;

/** Extends a lease held with this value (`token:owner`): 1, else 0. Also run by the lease renewal worker (`lease-renewer.ts`). */
export const RENEW_LEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const INCR_WITH_EXPIRY = `
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value`;

/** {@link KeyValueStore} on Redis. Shares leases and counters across processes. */
export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = 'redis' as const;
  readonly target: string;

  constructor(
    /** A client from {@link connectRedis} (its `keyPrefix` namespaces every key). */
    readonly client: Redis,
    target = `${client.options.host ?? 'localhost'}:${client.options.port ?? 6379}`,
  ) {
    this.target = target;
  }

  /** Connects to `url` (see {@link connectRedis}). */
  static async connect(url: string, options: RedisOptions): Promise<RedisKeyValueStore> {
    return new RedisKeyValueStore(await connectRedis(url, options), redisTarget(url));
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|timed? ?out|MaxRetriesPerRequest|EPIPE/i.test(message)) {
        throw new RedisUnavailableError(this.target, message, { cause: error });
      }
      throw error;
    }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.run(() => this.client.get(key))) ?? undefined;
  }

  async set(key: string, value: string, options: { readonly ttlMs?: number } = {}): Promise<void> {
    const ttlMs = options.ttlMs;
    await this.run(() => (ttlMs === undefined ? this.client.set(key, value) : this.client.set(key, value, 'PX', ttlMs)));
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    return Number(await this.run(() => this.client.eval(INCR_WITH_EXPIRY, 1, key, ttlMs)));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run(() => this.client.del(key))) > 0;
  }

  async scan(prefix: string): Promise<string[]> {
    const storePrefix = this.client.options.keyPrefix ?? '';
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.run(() => this.client.scan(cursor, 'MATCH', `${escapeGlob(storePrefix + prefix)}*`, 'COUNT', 1000));
      cursor = next;
      for (const key of batch) keys.add(key.slice(storePrefix.length));
    } while (cursor !== '0');
    return [...keys].sort();
  }

  async acquireLease(name: string, owner: string, ttlMs: number, options: { readonly minToken?: number } = {}): Promise<Lease | undefined> {
    const token = Number(await this.run(() => this.client.eval(ACQUIRE, 2, leaseKey(name), fenceKey(name), owner, ttlMs, options.minToken ?? 0)));
    return token === 0 ? undefined : { name, owner, token };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    return Number(await this.run(() => this.client.eval(RENEW_LEASE_SCRIPT, 1, leaseKey(lease.name), `${lease.token}:${lease.owner}`, ttlMs))) === 1;
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    return Number(await this.run(() => this.client.eval(RELEASE, 1, leaseKey(lease.name), `${lease.token}:${lease.owner}`))) === 1;
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
