/**
 * The database port and its two adapters: PostgreSQL through a `pg` pool (when `DATABASE_URL` is
 * set) and embedded PGlite in the data directory (when it is not). One schema serves both.
 *
 * `bigint` columns come back as JS numbers (money is integer paise, always a safe integer); a
 * value outside the safe range throws rather than losing precision. A dead server surfaces as
 * {@link DatabaseUnavailableError}, never as a raw socket error.
 */
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { lockDataDirectory, type DataDirectoryLock } from './data-dir-lock.js';
import { secureDataDirectory } from './data-dir-mode.js';

/** SQL parameters: `$1`, `$2`, … in order. */
export type SqlParams = readonly unknown[];

/** Something that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one statement with `$n` parameters; resolves to its rows. */
  query<T>(sql: string, params?: SqlParams): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations, DDL). */
  exec(script: string): Promise<void>;
}

/** A transaction: the same API, on one connection, between BEGIN and COMMIT. */
export type Transaction = Queryable;

/** The database port. Implementations: {@link PostgresDatabase}, {@link PgliteDatabase}. */
export interface Database extends Queryable {
  /** Which engine this is: `postgres` (a server through `pg`) or `pglite` (embedded). */
  readonly kind: 'postgres' | 'pglite';
  /** Where the database is, for logs and errors: `host:port/db` or the data directory. */
  readonly target: string;
  /**
   * Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * rejects (the rejection is passed on). Durable when the returned promise resolves.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Closes every connection. The object is unusable afterwards. */
  close(): Promise<void>;
}

/** The database cannot be reached (refused, reset, timed out, shutting down). */
export class DatabaseUnavailableError extends Error {
  /** `host:port` (or the data directory) that could not be reached. */
  readonly target: string;
  /** The mark the gateway answers 503 `unavailable` for (its `isStoreUnavailable`), without knowing this class. */
  readonly unavailable = true;

  constructor(target: string, reason: string, options?: { cause?: unknown }) {
    super(`database at ${target} is unavailable: ${reason}`, options);
    this.name = 'DatabaseUnavailableError';
    this.target = target;
  }
}

/** Settings the adapters need (a slice of `TroupeConfig`). */
export interface DatabaseSettings {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly persistence: {
    readonly poolMin: number;
    readonly poolMax: number;
    readonly statementTimeoutMs: number;
    readonly connectTimeoutMs: number;
  };
}

const INT8_OID = 20;

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} is outside the safe integer range`);
  return value;
}

/** `pg` type parsers with int8 parsed to a (safe) number instead of a string. */
const int8AsNumber = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID && format !== 'binary' ? parseInt8 : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as typeof pg.types.getTypeParser;

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
]);
const CONNECTION_ERROR_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /connection (is )?closed/i,
  /Cannot use a pool after calling end/i,
];

/** True when `error` means the server is unreachable rather than that a statement failed. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  return CONNECTION_ERROR_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** host:port/database of a PostgreSQL URL, for messages (never the password). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured DATABASE_URL';
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** PostgreSQL through a `pg` pool (min/max size, statement timeout from the settings). */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly target: string;
  private readonly pool: pg.Pool;
  /** The last error an idle pooled connection reported (server restart, network). */
  lastIdleError: Error | undefined;
  /** The last error any pooled connection reported, idle or checked out. */
  lastClientError: Error | undefined;

  constructor(url: string, settings: DatabaseSettings['persistence'] = { poolMin: 2, poolMax: 10, statementTimeoutMs: 30_000, connectTimeoutMs: 5000 }) {
    this.target = describeUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      min: settings.poolMin,
      max: settings.poolMax,
      statement_timeout: settings.statementTimeoutMs,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'troupe',
      types: { getTypeParser: int8AsNumber },
    });
    // Without a listener, a connection dying (server crash or restart, network) would crash the
    // process: an 'error' event with no listener throws. The pool listens on its idle clients only
    // ('error' on the pool); every client it makes also gets a listener of its own here, for its
    // whole life, so one checked out (a transaction, a COPY) is covered too. The statement in
    // flight then rejects (a DatabaseUnavailableError), and the broken client is not reused.
    this.pool.on('error', (error) => {
      this.lastIdleError = error;
    });
    this.pool.on('connect', (client) => {
      client.on('error', (error: Error) => {
        this.lastClientError = error;
      });
    });
  }

  /** Maps connection failures to {@link DatabaseUnavailableError}; other errors pass unchanged. */
  private translate(error: unknown): unknown {
    if (error instanceof DatabaseUnavailableError) return error;
    return isConnectionError(error) ? new DatabaseUnavailableError(this.target, reasonOf(error), { cause: error }) : error;
  }

  async query<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    try {
      const result = await this.pool.query(sql, params as unknown[]);
      return result.rows as T[];
    } catch (error) {
      throw this.translate(error);
    }
  }

  async exec(script: string): Promise<void> {
    try {
      await this.pool.query(script);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Runs `fn` with one pooled client (released afterwards; destroyed when the connection broke). */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    try {
      const result = await fn(client);
      client.release();
      return result;
    } catch (error) {
      client.release(isConnectionError(error) ? (error as Error) : undefined);
      throw this.translate(error);
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      const tx: Transaction = {
        query: async <R>(sql: string, params: SqlParams = []) => (await client.query(sql, params as unknown[])).rows as R[],
        exec: async (script: string) => {
          await client.query(script);
        },
      };
      await client.query('BEGIN');
      let result: T;
      try {
        result = await fn(tx);
      } catch (error) {
        if (!isConnectionError(error)) await client.query('ROLLBACK');
        throw error;
      }
      await client.query('COMMIT');
      return result;
    });
  }

  /**
   * `COPY … FROM STDIN` with the given chunks (text format unless the SQL says otherwise).
   * Resolves when the server has committed the copy (its own implicit transaction; with
   * `synchronousCommit: false`, an explicit one whose commit does not wait for the WAL flush).
   */
  async copyIn(sql: string, chunks: Iterable<Buffer | string>, options: { readonly synchronousCommit?: boolean } = {}): Promise<void> {
    await this.withClient(async (client) => {
      // asynchronous commit for this copy only (SET LOCAL in its own transaction): for data that may be lost on a crash, e.g. ticks
      const local = options.synchronousCommit === false;
      if (local) await client.query('BEGIN; SET LOCAL synchronous_commit = off');
      try {
        const stream = client.query(copyFrom(sql));
        await pipeline(Readable.from(chunks, { objectMode: false }), stream);
      } catch (error) {
        if (local && !isConnectionError(error)) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      if (local) await client.query('COMMIT');
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) in a data directory. One connection: every query
 * and transaction is serialised through a queue. Single process only, enforced: the directory is
 * locked while open (`<dir>.lock`, `data-dir-lock.ts`); a second open, in this process or
 * another, gets `DataDirectoryLockedError` naming the directory and the PID holding it.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly db: PGlite,
    readonly target: string,
    private readonly lock: DataDirectoryLock | undefined,
  ) {}

  /**
   * Opens (creating when needed) the database in `dataDir`, or in memory for `memory://`.
   * Throws `DataDirectoryLockedError` when another open database holds the directory.
   */
  static async open(dataDir: string): Promise<PgliteDatabase> {
    const memory = dataDir.startsWith('memory://');
    const target = memory ? dataDir : resolve(dataDir);
    // owner-only (0700/0600): PGlite writes its files 0666 whatever the umask, so the tree is fixed after it is created too
    if (!memory) secureDataDirectory(target);
    const lock = memory ? undefined : lockDataDirectory(target);
    try {
      const db = await PGlite.create(target, { parsers: { [INT8_OID]: (value: string) => parseInt8(value) } });
      if (!memory) secureDataDirectory(target);
      return new PgliteDatabase(db, target, lock);
    } catch (error) {
      lock?.release();
      throw new DatabaseUnavailableError(target, `cannot open the embedded database: ${reasonOf(error)}`, { cause: error });
    }
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DatabaseUnavailableError(this.target, 'the embedded database is closed'));
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  query<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return this.serialise(async () => (await this.db.query<T>(sql, params as unknown[])).rows);
  }

  exec(script: string): Promise<void> {
    return this.serialise(async () => {
      await this.db.exec(script);
    });
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.serialise(() =>
      this.db.transaction(async (inner) => {
        const tx: Transaction = {
          query: async <R>(sql: string, params: SqlParams = []) => (await inner.query<R>(sql, params as unknown[])).rows,
          exec: async (script: string) => {
            await inner.exec(script);
          },
        };
        return fn(tx);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.serialise(() => this.db.close());
    } finally {
      this.closed = true;
      this.lock?.release();
      // what PGlite wrote while open (0666) becomes owner-only; a failure here was reported at open already
      if (!this.target.startsWith('memory://')) {
        try {
          secureDataDirectory(this.target);
        } catch {
          // the directory stays 0700: nobody else gets in
        }
      }
    }
  }
}

/**
 * Opens the configured database: PostgreSQL when `databaseUrl` is set (and checks it answers),
 * else PGlite in `<dataDir>/pgdata`. Does not migrate (see `migrate`).
 */
export async function openDatabase(settings: DatabaseSettings): Promise<Database> {
  if (settings.databaseUrl !== undefined) {
    const database = new PostgresDatabase(settings.databaseUrl, settings.persistence);
    try {
      await database.query('SELECT 1');
    } catch (error) {
      await database.close().catch(() => undefined);
      throw error;
    }
    return database;
  }
  return PgliteDatabase.open(join(settings.dataDir, 'pgdata'));
}
