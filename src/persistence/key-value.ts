/**
 * The key-value port (Redis's role in Troupe): latest quotes with a TTL, sessions, rate-limit
 * counters and leases (distributed locks with fencing tokens). Implementations:
 * `RedisKeyValueStore` (ioredis, shared between processes) and {@link InProcessKeyValueStore}
 * (a Map; single process only).
 */

/** A lease held on `name` by `owner`. `token` grows with every acquisition of that name. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  /**
   * Fencing token: strictly greater than any token handed out earlier for the same name. Writers
   * pass it along so a store can refuse a stale holder's writes.
   */
  readonly token: number;
}

/** The key-value port. Keys are relative to the store's prefix. */
export interface KeyValueStore {
  /** Which implementation: `redis` (shared) or `in-process` (single process only). */
  readonly kind: 'redis' | 'in-process';
  get(key: string): Promise<string | undefined>;
  /** Sets `key`; with `ttlMs` it expires after that long. */
  set(key: string, value: string, options?: { readonly ttlMs?: number }): Promise<void>;
  /** Increments an integer counter; the first increment starts its `ttlMs` expiry (rate-limit windows). */
  incr(key: string, ttlMs: number): Promise<number>;
  /** Deletes `key`; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Keys starting with `prefix` (relative to the store's prefix), sorted. */
  scan(prefix: string): Promise<string[]>;
  /**
   * Takes the lease `name` for `owner` for `ttlMs`, or returns undefined when someone holds it
   * (including `owner` itself: owners must be unique per process incarnation). With `minToken`,
   * the token handed out is greater than it (a floor kept elsewhere, e.g. in PostgreSQL, survives
   * a Redis that lost its fence counter).
   */
  acquireLease(name: string, owner: string, ttlMs: number, options?: { readonly minToken?: number }): Promise<Lease | undefined>;
  /** Extends a held lease by `ttlMs` from now; false when it expired or another token holds it. */
  renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Releases a held lease; false when it was no longer held with this token. */
  releaseLease(lease: Lease): Promise<boolean>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** Key layout shared by both implementations. */
export const leaseKey = (name: string): string => `lease:${name}`;
/** Counter of fencing tokens of a lease (never expires). */
export const fenceKey = (name: string): string => `lease-fence:${name}`;

interface Entry {
  value: string;
  expiresAtMs: number | undefined;
}

/**
 * {@link KeyValueStore} in a Map. **Single process only**: leases exclude only other users of this
 * object, not other processes. The default when `REDIS_URL` is not set.
 */
export class InProcessKeyValueStore implements KeyValueStore {
  readonly kind = 'in-process' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly fences = new Map<string, number>();

  /** `nowMs` is injectable so tests can move time by hand. */
  constructor(private readonly nowMs: () => number = Date.now) {}

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= this.nowMs()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.live(key)?.value);
  }

  set(key: string, value: string, options: { readonly ttlMs?: number } = {}): Promise<void> {
    this.entries.set(key, { value, expiresAtMs: options.ttlMs === undefined ? undefined : this.nowMs() + options.ttlMs });
    return Promise.resolve();
  }

  incr(key: string, ttlMs: number): Promise<number> {
    const entry = this.live(key);
    const next = (entry === undefined ? 0 : Number(entry.value)) + 1;
    if (!Number.isSafeInteger(next)) return Promise.reject(new TypeError(`value of ${key} is not an integer`));
    this.entries.set(key, { value: String(next), expiresAtMs: entry === undefined ? this.nowMs() + ttlMs : entry.expiresAtMs });
    return Promise.resolve(next);
  }

  delete(key: string): Promise<boolean> {
    const existed = this.live(key) !== undefined;
    this.entries.delete(key);
    return Promise.resolve(existed);
  }

  scan(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.entries.keys()].filter((key) => key.startsWith(prefix) && this.live(key) !== undefined).sort());
  }

  acquireLease(name: string, owner: string, ttlMs: number, options: { readonly minToken?: number } = {}): Promise<Lease | undefined> {
    if (this.live(leaseKey(name)) !== undefined) return Promise.resolve(undefined);
    const token = Math.max(this.fences.get(name) ?? 0, options.minToken ?? 0) + 1;
    this.fences.set(name, token);
    this.entries.set(leaseKey(name), { value: `${token}:${owner}`, expiresAtMs: this.nowMs() + ttlMs });
    return Promise.resolve({ name, owner, token });
  }

  renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const entry = this.live(leaseKey(lease.name));
    if (entry?.value !== `${lease.token}:${lease.owner}`) return Promise.resolve(false);
    entry.expiresAtMs = this.nowMs() + ttlMs;
    return Promise.resolve(true);
  }

  releaseLease(lease: Lease): Promise<boolean> {
    const entry = this.live(leaseKey(lease.name));
    if (entry?.value !== `${lease.token}:${lease.owner}`) return Promise.resolve(false);
    this.entries.delete(leaseKey(lease.name));
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
