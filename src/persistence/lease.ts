/**
 * Single writer: a Troupe process trades a portfolio only while it holds that portfolio's lease
 * (and one per strategy it runs), each with a **fencing token**. Two processes on the same
 * database can never both write a portfolio's orders:
 *
 * - **Taking**: `LeaseKeeper.acquire` takes every lease (`portfolio/<id>`, `strategy/<id>`) from
 *   a {@link LeaseBackend} — Redis (`SET NX PX`, token from `INCR`), a PostgreSQL session
 *   advisory lock when there is no Redis but a server, or in-process for the embedded PGlite
 *   (single process by nature) — and registers each token in PostgreSQL (`lease_fences`). A
 *   token is always greater than the one stored there, even if Redis lost its counter.
 *   Held by someone else: {@link LeaseHeldError} at once (the default), or wait up to `waitMs`
 *   (a crashed holder's Redis lease expires after its TTL; an advisory lock goes with its
 *   connection at once).
 * - **Keeping**: renewed every `ttlMs / 3` — on Redis from a worker thread with its own
 *   connection (`lease-renewer.ts`), so a stall of the main thread longer than the TTL does not
 *   lose the lease (up to `maxStallMs`, default 60 s: a main thread stuck beyond it lets its leases
 *   expire); the main thread keeps the tokens and decides what a lost lease means. The advisory
 *   lock lives with its connection and needs no renewal in time. Backend unreachable (Redis down): the state is
 *   `unconfirmed` and trading carries on — nobody else can take the lease from a dead Redis,
 *   and PostgreSQL still fences. Backend says the lease is gone (Redis came back empty, or the
 *   advisory connection dropped): taken again with a new token; if someone else has it, the
 *   state is `lost` (`onLost`), and this process's journal writes are refused from then on.
 * - **Fencing**: every journal append checks, in its own transaction, that each of the
 *   writer's tokens is still the newest in `lease_fences` ({@link checkFences}); a stale
 *   writer gets {@link StaleFenceError} and the execution actor fails closed (orders refused).
 *
 * Granularity (a choice): the **process** holds the leases of the portfolios and strategies it
 * runs; every order of every strategy is journaled under all of them. Strategies added later
 * through the API trade through the portfolio, whose lease covers them.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import type { Queryable } from './database.js';
import { InProcessKeyValueStore, leaseKey, type KeyValueStore, type Lease } from './key-value.js';
import { LeaseRenewer, type RedisRenewalTarget, type RenewalRound } from './lease-renewer.js';
import { RedisKeyValueStore } from './redis/redis-key-value.js';

/** A lease name and the fencing token this process holds for it. */
export interface Fence {
  readonly name: string;
  readonly token: number;
}

/** Someone else holds a lease this process needs. */
export class LeaseHeldError extends Error {
  constructor(
    readonly leaseName: string,
    readonly holder: string | undefined,
    readonly backend: string,
    waitedMs: number,
  ) {
    super(
      `${leaseName.replace('/', ' "')}" is already traded by another Troupe process${holder === undefined ? '' : ` (${holder})`} on the same database: ` +
        `this process will not trade it${waitedMs > 0 ? ` (waited ${waitedMs} ms)` : ''}. Stop the other process, or set TROUPE_LEASE_WAIT_MS to wait for its lease ` +
        `(${backend}) to be released or to expire`,
    );
    this.name = 'LeaseHeldError';
  }
}

/** A journal write carried a fencing token older than the newest one: another process took over. */
export class StaleFenceError extends Error {
  readonly code = 'stale-fence';
  constructor(
    readonly leaseName: string,
    readonly token: number,
    readonly newest: number | undefined,
  ) {
    super(
      newest === undefined
        ? `lease ${leaseName} has no registered fencing token: journal write refused`
        : `lease ${leaseName} was taken over by another process (token ${newest} > ours ${token}): journal write refused, this process no longer trades it`,
    );
    this.name = 'StaleFenceError';
  }
}

/** Where leases live. */
export interface LeaseBackend {
  readonly kind: 'redis' | 'postgres-advisory' | 'in-process';
  /** Where a worker thread can renew these leases on its own connection (Redis); absent: renewed on the main thread. */
  readonly offThread?: RedisRenewalTarget | undefined;
  /** Takes `name` with a token > `minToken`; undefined when someone holds it. Throws when unreachable. */
  acquire(name: string, owner: string, ttlMs: number, minToken: number): Promise<Lease | undefined>;
  /** True while still held; false when it is gone (expired, taken, connection lost). Throws when unreachable. */
  renew(lease: Lease, ttlMs: number): Promise<boolean>;
  release(lease: Lease): Promise<void>;
  close(): Promise<void>;
}

/** Leases in a {@link KeyValueStore}: Redis (shared between processes) or in-process. */
export class KeyValueLeaseBackend implements LeaseBackend {
  readonly kind: 'redis' | 'in-process';
  /**
   * `offThread`: the Redis URL and key prefix of `store`, for renewal from a worker thread
   * (`openLeaseBackend` gives them; without them, leases are renewed on the main thread).
   */
  constructor(
    private readonly store: KeyValueStore,
    private readonly closeStore = false,
    readonly offThread?: RedisRenewalTarget,
  ) {
    this.kind = store.kind;
  }

  acquire(name: string, owner: string, ttlMs: number, minToken: number): Promise<Lease | undefined> {
    return this.store.acquireLease(name, owner, ttlMs, { minToken });
  }

  renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return this.store.renewLease(lease, ttlMs);
  }

  async release(lease: Lease): Promise<void> {
    await this.store.releaseLease(lease);
  }

  /** The raw value of a lease key (`token:owner`), for messages. */
  holder(name: string): Promise<string | undefined> {
    return this.store.get(leaseKey(name));
  }

  async close(): Promise<void> {
    if (this.closeStore) await this.store.close();
  }
}

/** 64-bit advisory lock key of a lease name (stable across processes). */
export const ADVISORY_SQL_KEY = "hashtextextended('troupe-lease:' || $1, 0)";

/**
 * Leases as PostgreSQL session advisory locks on one dedicated connection (no Redis). The lock
 * lives as long as the connection: a crashed process (even kill -9) releases it at once, so
 * there is no TTL to wait out. Tokens come from `lease_fences` (the floor + 1).
 */
export class AdvisoryLockLeaseBackend implements LeaseBackend {
  readonly kind = 'postgres-advisory' as const;
  private client: pg.Client | undefined;
  private broken = false;

  constructor(
    private readonly url: string,
    private readonly connectTimeoutMs = 5000,
  ) {}

  private async connection(): Promise<pg.Client> {
    if (this.client && !this.broken) return this.client;
    if (this.client) await this.client.end().catch(() => undefined);
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs, application_name: 'troupe-lease' });
    // listeners from before connecting, for the client's whole life (without one, a dropped connection would kill the
    // process); a client replaced since says nothing about the current one
    client.on('error', () => {
      if (this.client === client) this.broken = true;
    });
    client.on('end', () => {
      if (this.client === client) this.broken = true;
    });
    this.broken = false;
    this.client = client;
    try {
      await client.connect();
    } catch (error) {
      this.broken = true;
      throw error;
    }
    return client;
  }

  async acquire(name: string, owner: string, _ttlMs: number, minToken: number): Promise<Lease | undefined> {
    const client = await this.connection();
    const rows = await client.query<{ taken: boolean }>(`SELECT pg_try_advisory_lock(${ADVISORY_SQL_KEY}) AS taken`, [name]);
    return rows.rows[0]?.taken === true ? { name, owner, token: minToken + 1 } : undefined;
  }

  /** The lock lives with the session: held while the connection answers. */
  async renew(): Promise<boolean> {
    if (!this.client || this.broken) return false; // the connection went, and its locks with it
    try {
      await this.client.query('SELECT 1');
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  async release(lease: Lease): Promise<void> {
    if (!this.client || this.broken) return;
    await this.client.query(`SELECT pg_advisory_unlock(${ADVISORY_SQL_KEY})`, [lease.name]).catch(() => undefined);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

/** The newest token registered for each name (absent: none yet). */
async function registeredTokens(db: Queryable, names: readonly string[]): Promise<Map<string, { token: number; owner: string }>> {
  const rows = await db.query<{ name: string; token: number; owner: string }>('SELECT name, token, owner FROM lease_fences WHERE name = ANY($1::text[])', [
    names,
  ]);
  return new Map(rows.map((row) => [row.name, { token: Number(row.token), owner: row.owner }]));
}

/** Registers `token` as the newest of `name`; false when a newer one is already there. */
async function registerToken(db: Queryable, name: string, token: number, owner: string): Promise<boolean> {
  const rows = await db.query<{ name: string }>(
    `INSERT INTO lease_fences (name, token, owner, at) VALUES ($1, $2, $3, now())
     ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, owner = EXCLUDED.owner, at = now()
     WHERE lease_fences.token < EXCLUDED.token
     RETURNING name`,
    [name, token, owner],
  );
  return rows.length === 1;
}

/**
 * Checks, inside the caller's transaction, that each fence is still the newest token of its
 * lease (`FOR SHARE`: a process taking the lease over waits until this write commits, and every
 * later write of ours then fails). Throws {@link StaleFenceError}.
 */
export async function checkFences(tx: Queryable, fences: readonly Fence[]): Promise<void> {
  if (fences.length === 0) return;
  const rows = await tx.query<{ name: string; token: number }>('SELECT name, token FROM lease_fences WHERE name = ANY($1::text[]) FOR SHARE', [
    fences.map((fence) => fence.name),
  ]);
  const stored = new Map(rows.map((row) => [row.name, Number(row.token)]));
  for (const fence of fences) {
    const newest = stored.get(fence.name);
    if (newest !== fence.token) throw new StaleFenceError(fence.name, fence.token, newest);
  }
}

/** State of a {@link LeaseKeeper}. */
export type LeaseState = 'held' | 'unconfirmed' | 'lost' | 'released';

export interface LeaseStatus {
  readonly state: LeaseState;
  readonly backend: LeaseBackend['kind'];
  readonly owner: string;
  readonly leases: readonly Fence[];
  /** Why it is unconfirmed or lost. */
  readonly lastError?: string;
}

export interface LeaseKeeperOptions {
  /** Where fencing tokens are registered (the journal's database). */
  readonly db: Queryable;
  readonly backend: LeaseBackend;
  /** Lease names, e.g. `portfolio/paper`, `strategy/ema-cross-1`. */
  readonly names: readonly string[];
  /** Unique per process incarnation (default host:pid:random). */
  readonly owner?: string;
  /** Lease time to live (default 10 000 ms); a crashed holder's Redis lease frees after it. */
  readonly ttlMs?: number;
  /** Renewal period (default ttl / 3). */
  readonly renewEveryMs?: number;
  /**
   * Renew from a worker thread when the backend allows it (`backend.offThread`; default true):
   * the lease survives main-thread stalls longer than the TTL.
   */
  readonly renewOffThread?: boolean;
  /**
   * With off-thread renewal: how long the main thread may stall before the worker stops renewing
   * and lets the leases expire (default max(60 000 ms, 3 × TTL)), so a process stuck for good
   * does not hold them forever.
   */
  readonly maxStallMs?: number;
  /** How long to wait for a lease someone else holds before giving up (default 0: refuse at once). */
  readonly waitMs?: number;
  readonly log?: Logger;
  /** Told on every state change. */
  readonly onChange?: (status: LeaseStatus) => void;
}

/** A fresh owner id: host, pid and a random suffix. */
export function leaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Holds a process's leases (see the module comment). */
export class LeaseKeeper {
  private held = new Map<string, Lease>();
  private state: LeaseState = 'held';
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private renewer: LeaseRenewer | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private readonly lostListeners: Array<(status: LeaseStatus) => void> = [];
  readonly owner: string;
  private readonly ttlMs: number;

  private constructor(private readonly options: LeaseKeeperOptions) {
    this.owner = options.owner ?? leaseOwner();
    this.ttlMs = options.ttlMs ?? 10_000;
  }

  /** Takes every lease (all or none); throws {@link LeaseHeldError} when one stays held by someone else. */
  static async acquire(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const keeper = new LeaseKeeper(options);
    await keeper.takeAll();
    const target = options.backend.offThread;
    if (target !== undefined && options.renewOffThread !== false) await keeper.startRenewer(target);
    else keeper.renewOnMainThread();
    options.log?.info(
      { leases: keeper.fences(), backend: options.backend.kind, owner: keeper.owner, renewal: keeper.renewer ? 'worker thread' : 'main thread' },
      'single-writer leases taken',
    );
    return keeper;
  }

  private get renewEveryMs(): number {
    return this.options.renewEveryMs ?? Math.max(10, Math.floor(this.ttlMs / 3));
  }

  private renewOnMainThread(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.renewNow(), this.renewEveryMs);
    this.timer.unref();
  }

  private async startRenewer(target: RedisRenewalTarget): Promise<void> {
    try {
      const { renewer, first } = await LeaseRenewer.start(
        {
          target,
          ttlMs: this.ttlMs,
          renewEveryMs: this.renewEveryMs,
          maxStallMs: this.options.maxStallMs ?? Math.max(60_000, 3 * this.ttlMs),
          onRound: (round) => this.applyRound(round),
          onStalled: (stalledMs) =>
            this.options.log?.error(
              { stalledMs, leases: this.fences() },
              'the event loop stalled beyond maxStallMs: lease renewal paused, the leases may expire and be taken over',
            ),
          onError: (error) => {
            this.options.log?.warn({ err: error }, 'the lease renewal worker failed: renewing on the main thread');
            this.renewer = undefined;
            if (this.state !== 'released') this.renewOnMainThread();
          },
        },
        this.held.values(),
      );
      this.renewer = renewer;
      this.applyRound(first);
      await this.renewing;
    } catch (error) {
      this.options.log?.warn({ err: error }, 'cannot start the lease renewal worker: renewing on the main thread');
      this.renewOnMainThread();
    }
  }

  /** A worker round, applied on the main thread in order with every other renewal step. */
  private applyRound(round: RenewalRound): void {
    this.renewing = this.renewing.then(async () => {
      if (this.state === 'lost' || this.state === 'released') return;
      if (round.error !== undefined) {
        this.setState('unconfirmed', new Error(round.error));
        return;
      }
      await this.settle(round.gone);
    });
  }

  private async takeAll(): Promise<void> {
    const { backend, db, names } = this.options;
    const waitMs = this.options.waitMs ?? 0;
    const started = Date.now();
    const sorted = [...new Set(names)].sort();
    for (let attempt = 0; ; attempt += 1) {
      let blocked: string | undefined;
      let failure: unknown;
      try {
        const floors = await registeredTokens(db, sorted);
        for (const name of sorted) {
          if (this.held.has(name)) continue;
          const lease = await backend.acquire(name, this.owner, this.ttlMs, floors.get(name)?.token ?? 0);
          if (lease === undefined || !(await registerToken(db, name, lease.token, this.owner))) {
            if (lease) await backend.release(lease).catch(() => undefined);
            blocked = name;
            break;
          }
          this.held.set(name, lease);
        }
      } catch (error) {
        failure = error;
      }
      if (blocked === undefined && failure === undefined) return;
      for (const lease of this.held.values()) await backend.release(lease).catch(() => undefined);
      this.held.clear();
      const waited = Date.now() - started;
      if (waited >= waitMs) {
        if (failure !== undefined) {
          await backend.close().catch(() => undefined);
          throw failure instanceof Error ? failure : new Error(messageOf(failure));
        }
        const holder = (await registeredTokens(db, [blocked!]).catch(() => new Map<string, { token: number; owner: string }>())).get(blocked!);
        await backend.close().catch(() => undefined);
        throw new LeaseHeldError(blocked!, holder === undefined ? undefined : `owner ${holder.owner}, fencing token ${holder.token}`, backend.kind, waited);
      }
      if (attempt === 0) this.options.log?.warn({ lease: blocked, waitMs, err: failure }, 'a lease is held by another process: waiting for it');
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, Math.floor(this.ttlMs / 4)), waitMs - waited)));
    }
  }

  /** The tokens to fence journal writes with (empty once lost or released: writes then fail). */
  fences(): Fence[] {
    if (this.state === 'lost' || this.state === 'released') return [];
    return [...this.held.values()].map((lease) => ({ name: lease.name, token: lease.token }));
  }

  /** The tokens held, whatever the state (for status and logs). */
  private heldFences(): Fence[] {
    return [...this.held.values()].map((lease) => ({ name: lease.name, token: lease.token }));
  }

  status(): LeaseStatus {
    return {
      state: this.state,
      backend: this.options.backend.kind,
      owner: this.owner,
      leases: this.heldFences(),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Called once when a lease is lost to another process. */
  onLost(listener: (status: LeaseStatus) => void): void {
    this.lostListeners.push(listener);
  }

  private setState(state: LeaseState, error?: unknown): void {
    const before = this.state;
    this.state = state;
    this.lastError = error === undefined ? undefined : messageOf(error);
    if (before === state) return;
    const status = this.status();
    const log = this.options.log;
    if (state === 'held') log?.info({ leases: status.leases }, 'single-writer leases confirmed again');
    else if (state === 'unconfirmed')
      log?.warn(
        { err: error, backend: status.backend },
        'cannot renew the single-writer leases (backend unreachable): trading carries on, PostgreSQL still fences writes',
      );
    else if (state === 'lost')
      log?.error({ err: error, leases: status.leases }, 'a single-writer lease was taken by another process: this process stops writing orders');
    this.options.onChange?.(status);
    if (state === 'lost') for (const listener of this.lostListeners) listener(status);
  }

  /** One renewal round (also run by the timer). */
  renewNow(): Promise<void> {
    this.renewing = this.renewing.then(() => this.renewRound());
    return this.renewing;
  }

  private async renewRound(): Promise<void> {
    if (this.state === 'lost' || this.state === 'released') return;
    const gone: Fence[] = [];
    try {
      for (const lease of [...this.held.values()])
        if (!(await this.options.backend.renew(lease, this.ttlMs))) gone.push({ name: lease.name, token: lease.token });
    } catch (error) {
      this.setState('unconfirmed', error);
      return;
    }
    await this.settle(gone);
  }

  /** After a renewal round: takes the leases that are gone again, or marks the keeper lost. */
  private async settle(gone: readonly Fence[]): Promise<void> {
    const { backend, db } = this.options;
    try {
      for (const { name, token } of gone) {
        const lease = this.held.get(name);
        if (lease === undefined || lease.token !== token) continue; // already taken again since that round
        // gone from the backend (expired while it was unreachable, or it came back empty): take it again
        const floor = (await registeredTokens(db, [name])).get(name)?.token ?? 0;
        if (floor > lease.token) {
          this.setState('lost', new StaleFenceError(name, lease.token, floor));
          return;
        }
        const again = await backend.acquire(name, this.owner, this.ttlMs, floor);
        if (again === undefined || !(await registerToken(db, name, again.token, this.owner))) {
          if (again !== undefined) await backend.release(again).catch(() => undefined);
          this.setState('lost', new Error(`lease ${name} is held by another process`));
          return;
        }
        this.held.set(name, again);
        this.renewer?.update(this.held.values());
        this.options.log?.warn({ lease: name, token: again.token }, 'single-writer lease taken again with a new fencing token');
      }
      this.setState('held');
    } catch (error) {
      this.setState('unconfirmed', error);
    }
  }

  /** Releases every lease (graceful stop). */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // the worker first: no renewal may follow the release
    await this.renewer?.stop();
    this.renewer = undefined;
    await this.renewing;
    const { backend } = this.options;
    for (const lease of this.held.values()) await backend.release(lease).catch(() => undefined);
    this.held.clear();
    this.setState('released');
    await backend.close().catch(() => undefined);
  }

  /** Stops renewing without releasing anything (tests: what a crash leaves behind). */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.renewer?.terminate();
    this.renewer = undefined;
  }
}

/**
 * The lease backend for a configuration: Redis when `redisUrl` is set (its own connection),
 * else a PostgreSQL advisory lock when `databaseUrl` is set, else in-process (the embedded
 * PGlite: one process owns its data directory).
 */
export async function openLeaseBackend(settings: {
  readonly redisUrl: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly redisKeyPrefix: string;
}): Promise<LeaseBackend> {
  if (settings.redisUrl !== undefined) {
    const target = { url: settings.redisUrl, keyPrefix: settings.redisKeyPrefix };
    return new KeyValueLeaseBackend(await RedisKeyValueStore.connect(target.url, { keyPrefix: target.keyPrefix }), true, target);
  }
  if (settings.databaseUrl !== undefined) return new AdvisoryLockLeaseBackend(settings.databaseUrl);
  return new KeyValueLeaseBackend(new InProcessKeyValueStore());
}

/** The leases a trading process holds: its portfolio's and each of its strategies'. */
export function tradingLeaseNames(portfolioId: string, strategyIds: readonly string[]): string[] {
  return [`portfolio/${portfolioId}`, ...strategyIds.map((strategyId) => `strategy/${strategyId}`)];
}

/** What a trading process's configuration says about its leases (`TroupeConfig` fits). */
export interface TradingLeaseSettings {
  readonly redisUrl: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly persistence: { readonly redisKeyPrefix: string; readonly leaseTtlMs: number; readonly leaseWaitMs: number };
}

/** Takes a trading process's leases on the backend its configuration names (see {@link openLeaseBackend}). */
export async function acquireTradingLeases(db: Queryable, settings: TradingLeaseSettings, names: readonly string[], log: Logger): Promise<LeaseKeeper> {
  return LeaseKeeper.acquire({
    db,
    backend: await openLeaseBackend({ redisUrl: settings.redisUrl, databaseUrl: settings.databaseUrl, redisKeyPrefix: settings.persistence.redisKeyPrefix }),
    names,
    ttlMs: settings.persistence.leaseTtlMs,
    waitMs: settings.persistence.leaseWaitMs,
    log,
  });
}

/** Each named lease as the metrics show it: held (and not lost), with its fencing token (0 when not held). */
export function leaseGauges(keeper: LeaseKeeper | undefined, names: readonly string[]): { lease: string; held: boolean; token: number }[] {
  const status = keeper?.status();
  const tokens = new Map(status?.leases.map((lease) => [lease.name, lease.token]));
  return names.map((name) => ({ lease: name, held: tokens.has(name) && status?.state !== 'lost', token: tokens.get(name) ?? 0 }));
}
