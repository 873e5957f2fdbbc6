/**
 * Real PostgreSQL 15 and Redis 7 for tests and benchmarks, no mocks.
 *
 * - `usePostgres()`: with `DATABASE_URL` set and reachable, a fresh database `troupe_test_<random>`
 *   on that server (dropped by `stop`). Otherwise a throwaway server from the local binaries
 *   (`/usr/lib/postgresql/15/bin`) in a temp dir on a free loopback port, trust auth, `fsync=off`
 *   (tests only), run as the `postgres` user when we are root. Missing binaries are installed with
 *   apt-get when we are root; otherwise the call fails naming what is missing.
 * - `useRedis()`: with `REDIS_URL` set and reachable, a fresh random key prefix (its keys are
 *   deleted by `stop`). Otherwise a throwaway `redis-server` without persistence.
 *
 * Within one test file (one module instance), a second call reuses the same server (reference
 * counted; the server stops with the last `stop`). `{ dedicated: true }` always starts a private
 * throwaway server, never the machine's: outage tests stop and restart it (`kill`, `restart`).
 * Readiness is polled with real connections; there are no fixed sleeps.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';

const PG_BIN = process.env.TROUPE_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const READY_TIMEOUT_MS = 30_000;

/** A PostgreSQL database for one test file. */
export interface PostgresService {
  /** Connection URL of the test database. */
  readonly url: string;
  /** Name of the test database. */
  readonly database: string;
  /** `throwaway` = a server this harness started; `external` = `DATABASE_URL`. */
  readonly source: 'throwaway' | 'external';
  /** Releases this handle; the last release drops the database / stops the server. */
  stop(): Promise<void>;
}

/** A private throwaway PostgreSQL server that a test may kill and restart. */
export interface DedicatedPostgresService extends PostgresService {
  /** Stops the server at once (SIGQUIT: immediate shutdown, like a crash). The data dir stays. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data dir; resolves when it accepts connections. */
  restart(): Promise<void>;
}

/** A Redis namespace for one test file. */
export interface RedisService {
  readonly url: string;
  /** Prefix every key of this test run must use (e.g. as ioredis `keyPrefix`). */
  readonly keyPrefix: string;
  readonly source: 'throwaway' | 'external';
  /** Releases this handle; the last release deletes the prefix's keys / stops the server. */
  stop(): Promise<void>;
}

/** A private throwaway Redis server that a test may kill and restart. */
export interface DedicatedRedisService extends RedisService {
  kill(): Promise<void>;
  restart(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// helpers

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function randomName(): string {
  return randomBytes(6).toString('hex');
}

/** A free loopback TCP port (asks the kernel for one, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Polls `probe` until it resolves true (or throws `what` after the timeout). */
async function pollUntil(what: string, probe: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS, exited?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 10;
  let lastError = '';
  for (;;) {
    const exitReason = exited?.();
    if (exitReason !== undefined) throw new Error(`${what}: the server exited (${exitReason})`);
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms (${lastError})`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 200);
  }
}

function aptInstall(pkg: string, missing: string): void {
  if (!isRoot()) {
    throw new Error(`test services: ${missing} is missing and we are not root; install the Debian package ${pkg} (apt-get install -y ${pkg})`);
  }
  try {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', pkg], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    throw new Error(`test services: ${missing} is missing and "apt-get install -y ${pkg}" failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!existsSync(missing)) throw new Error(`test services: installed ${pkg} but ${missing} is still missing`);
}

async function reachable(run: () => Promise<void>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch {
    return false;
  }
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Waits until a child exits (resolves at once when it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

class ThrowawayPostgres {
  private child: ChildProcess | undefined;
  private exitReason: string | undefined;
  private logTail = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<ThrowawayPostgres> {
    for (const binary of ['initdb', 'postgres']) {
      if (!existsSync(join(PG_BIN, binary))) aptInstall('postgresql-15', join(PG_BIN, binary));
    }
    const dir = mkdtempSync(join(tmpdir(), 'troupe-pg-'));
    tempDirs.add(dir);
    if (isRoot()) chownSync(dir, postgresUid(), postgresGid());
    const dataDir = join(dir, 'data');
    runAsPostgres(join(PG_BIN, 'initdb'), ['-D', dataDir, '--no-sync', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
    const server = new ThrowawayPostgres(dir, await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    this.exitReason = undefined;
    const args = [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=100',
      '-c',
      'shared_buffers=128MB',
      '-c',
      'max_wal_size=2GB',
      '-c',
      'logging_collector=off',
    ];
    const [command, commandArgs] = isRoot() ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, 'postgres'), ...args]] : [join(PG_BIN, 'postgres'), args];
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    children.add(child);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.logTail = (this.logTail + chunk.toString()).slice(-2000);
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      this.exitReason = `code ${String(code)}, signal ${String(signal)}: ${this.logTail.trim().split('\n').slice(-3).join(' | ')}`;
    });
    await pollUntil(
      `PostgreSQL on port ${this.port}`,
      () => pgPing(this.url),
      READY_TIMEOUT_MS,
      () => this.exitReason,
    );
  }

  /** SIGQUIT to the postmaster (immediate shutdown) or SIGINT (fast shutdown). */
  async halt(signal: 'SIGQUIT' | 'SIGINT'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const pidFile = join(this.dir, 'data', 'postmaster.pid');
    const postmasterPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
    try {
      if (Number.isInteger(postmasterPid)) process.kill(postmasterPid, signal);
      else if (child.pid !== undefined) process.kill(child.pid, signal);
    } catch {
      // already gone
    }
    await exited(child);
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.halt('SIGQUIT');
    rmSync(this.dir, { recursive: true, force: true });
    tempDirs.delete(this.dir);
  }
}

let postgresIds: { uid: number; gid: number } | undefined;
function postgresUser(): { uid: number; gid: number } {
  if (postgresIds === undefined) {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('postgres:'));
    const fields = line?.split(':');
    if (fields === undefined) throw new Error('test services: there is no "postgres" user to run PostgreSQL as (install postgresql-15)');
    postgresIds = { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return postgresIds;
}
function postgresUid(): number {
  return postgresUser().uid;
}
function postgresGid(): number {
  return postgresUser().gid;
}

function runAsPostgres(binary: string, args: string[]): void {
  try {
    if (isRoot()) execFileSync('runuser', ['-u', 'postgres', '--', binary, ...args], { stdio: 'pipe' });
    else execFileSync(binary, args, { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`test services: ${binary} failed: ${stderr || String(error)}`);
  }
}

async function pgPing(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function pgAdmin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface Shared<T> {
  handle: Promise<T>;
  users: number;
}
let sharedPostgres: Shared<{ url: string; database: string; source: 'throwaway' | 'external'; release(): Promise<void> }> | undefined;

async function openSharedPostgres(): Promise<{ url: string; database: string; source: 'throwaway' | 'external'; release(): Promise<void> }> {
  const external = process.env.DATABASE_URL;
  if (external !== undefined && external !== '' && (await reachable(async () => void (await pgPing(external))))) {
    const database = `troupe_test_${randomName()}`;
    await pgAdmin(external, `CREATE DATABASE ${database}`);
    return {
      url: withDatabase(external, database),
      database,
      source: 'external',
      release: () => pgAdmin(external, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
    };
  }
  const server = await ThrowawayPostgres.create();
  const database = `troupe_test_${randomName()}`;
  await pgAdmin(server.url, `CREATE DATABASE ${database}`);
  return { url: withDatabase(server.url, database), database, source: 'throwaway', release: () => server.destroy() };
}

/**
 * A PostgreSQL 15 database for this test file (see the module comment). With `dedicated: true`, a
 * private throwaway server that the caller may `kill` and `restart`.
 */
export async function usePostgres(options: { dedicated: true }): Promise<DedicatedPostgresService>;
export async function usePostgres(options?: { dedicated?: false }): Promise<PostgresService>;
export async function usePostgres(options: { dedicated?: boolean } = {}): Promise<PostgresService | DedicatedPostgresService> {
  if (options.dedicated === true) {
    const server = await ThrowawayPostgres.create();
    const database = `troupe_test_${randomName()}`;
    await pgAdmin(server.url, `CREATE DATABASE ${database}`);
    return {
      url: withDatabase(server.url, database),
      database,
      source: 'throwaway',
      stop: () => server.destroy(),
      kill: () => server.halt('SIGQUIT'),
      restart: () => server.start(),
    };
  }
  if (sharedPostgres === undefined) {
    const handle = openSharedPostgres();
    sharedPostgres = { handle, users: 0 };
    handle.catch(() => {
      sharedPostgres = undefined;
    });
  }
  const shared = sharedPostgres;
  shared.users += 1;
  const opened = await shared.handle;
  let released = false;
  return {
    url: opened.url,
    database: opened.database,
    source: opened.source,
    stop: async () => {
      if (released) return;
      released = true;
      shared.users -= 1;
      if (shared.users === 0) {
        if (sharedPostgres === shared) sharedPostgres = undefined;
        await opened.release();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis

const REDIS_SERVER = process.env.TROUPE_REDIS_SERVER ?? '/usr/bin/redis-server';

async function redisPing(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

class ThrowawayRedis {
  private child: ChildProcess | undefined;
  private exitReason: string | undefined;
  private logTail = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<ThrowawayRedis> {
    if (!existsSync(REDIS_SERVER)) aptInstall('redis-server', REDIS_SERVER);
    const dir = mkdtempSync(join(tmpdir(), 'troupe-redis-'));
    tempDirs.add(dir);
    writeFileSync(join(dir, 'README'), 'throwaway redis for troupe tests\n');
    const server = new ThrowawayRedis(dir, await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.exitReason = undefined;
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    children.add(child);
    const collect = (chunk: Buffer): void => {
      this.logTail = (this.logTail + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      children.delete(child);
      this.exitReason = `code ${String(code)}, signal ${String(signal)}: ${this.logTail.trim().split('\n').slice(-3).join(' | ')}`;
    });
    await pollUntil(
      `redis-server on port ${this.port}`,
      () => redisPing(this.url),
      READY_TIMEOUT_MS,
      () => this.exitReason,
    );
  }

  async halt(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await exited(child);
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
    tempDirs.delete(this.dir);
  }
}

let sharedRedis: Shared<{ url: string; keyPrefix: string; source: 'throwaway' | 'external'; release(): Promise<void> }> | undefined;

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

async function openSharedRedis(): Promise<{ url: string; keyPrefix: string; source: 'throwaway' | 'external'; release(): Promise<void> }> {
  const keyPrefix = `troupe-test-${randomName()}:`;
  const external = process.env.REDIS_URL;
  if (external !== undefined && external !== '' && (await reachable(async () => void (await redisPing(external))))) {
    return { url: external, keyPrefix, source: 'external', release: () => deleteKeys(external, keyPrefix) };
  }
  const server = await ThrowawayRedis.create();
  return { url: server.url, keyPrefix, source: 'throwaway', release: () => server.destroy() };
}

/**
 * A Redis 7 namespace for this test file (see the module comment). With `dedicated: true`, a
 * private throwaway server that the caller may `kill` and `restart` (it comes back empty).
 */
export async function useRedis(options: { dedicated: true }): Promise<DedicatedRedisService>;
export async function useRedis(options?: { dedicated?: false }): Promise<RedisService>;
export async function useRedis(options: { dedicated?: boolean } = {}): Promise<RedisService | DedicatedRedisService> {
  if (options.dedicated === true) {
    const server = await ThrowawayRedis.create();
    return {
      url: server.url,
      keyPrefix: `troupe-test-${randomName()}:`,
      source: 'throwaway',
      stop: () => server.destroy(),
      kill: () => server.halt(),
      restart: () => server.start(),
    };
  }
  if (sharedRedis === undefined) {
    const handle = openSharedRedis();
    sharedRedis = { handle, users: 0 };
    handle.catch(() => {
      sharedRedis = undefined;
    });
  }
  const shared = sharedRedis;
  shared.users += 1;
  const opened = await shared.handle;
  let released = false;
  return {
    url: opened.url,
    keyPrefix: opened.keyPrefix,
    source: opened.source,
    stop: async () => {
      if (released) return;
      released = true;
      shared.users -= 1;
      if (shared.users === 0) {
        if (sharedRedis === shared) sharedRedis = undefined;
        await opened.release();
      }
    },
  };
}
