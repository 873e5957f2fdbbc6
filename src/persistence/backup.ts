/**
 * Backups of the Troupe database (`troupe db backup` / `troupe db restore`).
 *
 * - **PostgreSQL server** (`DATABASE_URL`): `pg_dump -Fc` to a file and `pg_restore --clean
 *   --if-exists --single-transaction --exit-on-error --no-owner --no-acl` from it. The tools are
 *   taken from PATH, else from `/usr/lib/postgresql/15/bin`; when neither has them the error
 *   names the tool and the package. pg_dump takes a consistent (MVCC snapshot) copy while Troupe
 *   runs; restore drops and recreates Troupe's tables, so stop Troupe before restoring. The URL
 *   is passed to the tools as `--dbname` (a password in it is visible in the process list of this
 *   machine while the tool runs; prefer `~/.pgpass`).
 * - **Embedded PGlite** (`<dataDir>/pgdata`): a copy of the data directory into a directory with
 *   a `troupe-backup.json` manifest. PGlite has no server and no OS-level lock; while a PGlite
 *   instance has the directory open it keeps a `postmaster.pid` in it (removed by a clean close).
 *   Backup and restore refuse while that file exists. After `kill -9` the file stays behind:
 *   when no Troupe is running, `--ignore-lock` proceeds (the copy is then crash-consistent and
 *   PGlite recovers it from its WAL on open). The directory is fingerprinted (every file's size
 *   and mtime) before and after the copy; a change in between fails the backup.
 *
 * Restore refuses to overwrite existing data (a non-empty data directory, or a server database
 * that has tables) unless `force` is set. Writes go to a temporary sibling first and are renamed
 * into place, so an interrupted backup or restore never leaves a half-written result.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { describeUrl, PostgresDatabase, type DatabaseSettings } from './database.js';

const run = promisify(execFile);

/** Where the PostgreSQL 15 client tools live when they are not on PATH (Debian/Ubuntu). */
export const PG_FALLBACK_BIN = '/usr/lib/postgresql/15/bin';
/** The manifest file inside an embedded-store backup directory. */
export const MANIFEST = 'troupe-backup.json';
const MANIFEST_FORMAT = 'troupe-pglite-datadir';
/** PGlite keeps this file in its data directory while an instance has it open. */
const LOCK_FILE = 'postmaster.pid';

export interface BackupOptions {
  /** Backup: overwrite an existing output. Restore: overwrite existing data. */
  readonly force?: boolean;
  /** Embedded store: proceed although `postmaster.pid` exists (stale after a crash). */
  readonly ignoreLock?: boolean;
  /** Progress lines (no trailing newline). */
  readonly onProgress?: (line: string) => void;
}

export interface BackupSummary {
  readonly kind: 'postgres' | 'pglite';
  /** The database backed up or restored: `host:port/db` or the data directory. */
  readonly target: string;
  /** The backup file (postgres) or directory (pglite). */
  readonly path: string;
  readonly bytes: number;
  /** Tables with data in the dump (postgres) or files copied (pglite). */
  readonly items: number;
  readonly seconds: number;
}

/** A precondition failed: what is wrong and what to do, for the user. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL server

/** Resolves a PostgreSQL client tool: PATH first, then {@link PG_FALLBACK_BIN}. */
export async function findPgTool(name: 'pg_dump' | 'pg_restore', fallbackBin = PG_FALLBACK_BIN): Promise<string> {
  for (const candidate of [name, join(fallbackBin, name)]) {
    try {
      await run(candidate, ['--version'], { encoding: 'utf8' });
      return candidate;
    } catch {
      // not there (ENOENT) or not runnable: try the next one
    }
  }
  throw new BackupError(`${name} was not found on PATH or in ${fallbackBin}; install the PostgreSQL 15 client tools (apt-get install -y postgresql-client-15)`);
}

/** Runs a tool; resolves with its stderr lines, rejects naming the tool and its last lines of stderr. */
function runTool(command: string, args: readonly string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const tail: string[] = [];
    if (child.stderr !== null) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine(line);
      });
    }
    child.once('error', (error) => reject(new BackupError(`${basename(command)} could not be started: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else {
        const errors = tail.filter(
          (line) =>
            !/: (dumping|processing|creating|executing|reading|saving|last built-in|identifying|finding|flagging|connecting|implied|dropping|entering|started|restoring)/.test(
              line,
            ),
        );
        reject(
          new BackupError(
            `${basename(command)} failed (${signal ?? `exit code ${String(code)}`}): ${(errors.length > 0 ? errors : tail).slice(-5).join(' | ')}`,
          ),
        );
      }
    });
  });
}

function tempSibling(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${randomBytes(4).toString('hex')}`);
}

/** `pg_dump -Fc` of the database at `url` into the file `out`. */
export async function backupPostgres(url: string, out: string, options: BackupOptions = {}): Promise<BackupSummary> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const path = resolve(out);
  if (existsSync(path) && options.force !== true) throw new BackupError(`${path} already exists; choose another --out or pass --force to overwrite it`);
  const pgDump = await findPgTool('pg_dump');
  const target = describeUrl(url);
  await mkdir(dirname(path), { recursive: true });
  const partial = tempSibling(path, 'partial');
  progress(`backing up ${target} with ${pgDump} (custom format) to ${path}`);
  let tables = 0;
  try {
    await runTool(pgDump, ['--format=custom', '--verbose', '--no-password', `--file=${partial}`, `--dbname=${url}`], (line) => {
      const match = /dumping contents of table "?([^"]+(?:"\."[^"]+)?)"?/.exec(line);
      if (match) {
        tables += 1;
        progress(`  dumped ${match[1]!.replaceAll('"', '')}`);
      }
    });
    await rename(partial, path);
  } finally {
    await rm(partial, { force: true });
  }
  const { size } = await stat(path);
  return { kind: 'postgres', target, path, bytes: size, items: tables, seconds: (performance.now() - started) / 1000 };
}

/** `pg_restore --clean --if-exists` of the dump `input` into the database at `url`. */
export async function restorePostgres(url: string, input: string, options: BackupOptions = {}): Promise<BackupSummary> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const path = resolve(input);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new BackupError(`${path} is not a backup file (expected a pg_dump custom-format file from "troupe db backup")`);
  const pgRestore = await findPgTool('pg_restore');
  const target = describeUrl(url);
  const db = new PostgresDatabase(url, { poolMin: 0, poolMax: 1, statementTimeoutMs: 30_000, connectTimeoutMs: 5000 });
  let existing: number;
  try {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    existing = row?.n ?? 0;
  } finally {
    await db.close();
  }
  if (existing > 0 && options.force !== true) {
    throw new BackupError(`${target} already holds ${existing} tables; restoring replaces them with the backup's. Stop Troupe and pass --force to proceed`);
  }
  progress(`restoring ${path} into ${target} with ${pgRestore} (one transaction)`);
  let tables = 0;
  await runTool(
    pgRestore,
    ['--clean', '--if-exists', '--single-transaction', '--exit-on-error', '--no-owner', '--no-acl', '--verbose', '--no-password', `--dbname=${url}`, path],
    (line) => {
      const match = /processing data for table "?([^"]+(?:"\."[^"]+)?)"?/.exec(line);
      if (match) {
        tables += 1;
        progress(`  restored ${match[1]!.replaceAll('"', '')}`);
      }
    },
  );
  const { size } = await stat(path);
  return { kind: 'postgres', target, path, bytes: size, items: tables, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Embedded PGlite data directory

/** The lock file path when a PGlite instance has (or had, before a crash) `dataDir` open. */
export function embeddedLockFile(dataDir: string): string | undefined {
  const lock = join(dataDir, LOCK_FILE);
  return existsSync(lock) ? lock : undefined;
}

function refuseWhenOpen(dataDir: string, options: BackupOptions): void {
  const lock = embeddedLockFile(dataDir);
  if (lock === undefined) return;
  if (options.ignoreLock === true) {
    options.onProgress?.(`warning: ${lock} exists; proceeding because of --ignore-lock`);
    return;
  }
  throw new BackupError(
    `the embedded database at ${dataDir} is open (${lock} exists): stop the running Troupe first. ` +
      'If no Troupe is running (it was killed and left the file behind), pass --ignore-lock',
  );
}

interface Fingerprint {
  readonly files: number;
  readonly bytes: number;
  readonly text: string;
}

/** Every file's relative path, size and mtime (sorted), minus the lock file and a manifest. */
function fingerprint(dir: string): Fingerprint {
  const entries: string[] = [];
  let bytes = 0;
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const rel = relative(dir, full);
        if (rel === LOCK_FILE || rel === MANIFEST) continue;
        const info = statSync(full);
        bytes += info.size;
        entries.push(`${rel}\t${info.size}\t${info.mtimeMs}`);
      }
    }
  };
  walk(dir);
  entries.sort();
  return { files: entries.length, bytes, text: entries.join('\n') };
}

function isNonEmptyDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && readdirSync(path).length > 0;
}

/** Copies the PGlite data directory `dataDir` into the directory `out` (with a manifest). */
export async function backupPgliteDir(dataDir: string, out: string, options: BackupOptions = {}): Promise<BackupSummary> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const source = resolve(dataDir);
  const path = resolve(out);
  if (!existsSync(join(source, 'PG_VERSION'))) throw new BackupError(`${source} is not an embedded Troupe database (no PG_VERSION); nothing to back up`);
  if (existsSync(path) && options.force !== true) throw new BackupError(`${path} already exists; choose another --out or pass --force to overwrite it`);
  refuseWhenOpen(source, options);
  const before = fingerprint(source);
  progress(`backing up the embedded database ${source} (${before.files} files, ${formatBytes(before.bytes)}) to ${path}`);
  await mkdir(dirname(path), { recursive: true });
  const partial = tempSibling(path, 'partial');
  try {
    await cp(source, partial, { recursive: true, filter: (from) => relative(source, from) !== LOCK_FILE });
    const after = fingerprint(source);
    if (after.text !== before.text || (embeddedLockFile(source) !== undefined && options.ignoreLock !== true)) {
      throw new BackupError(`the embedded database at ${source} changed while it was copied (is Troupe running?); stop it and back up again`);
    }
    const manifest = { format: MANIFEST_FORMAT, version: 1, source, createdAt: new Date().toISOString(), files: before.files, bytes: before.bytes };
    await writeFile(join(partial, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    if (existsSync(path)) await rm(path, { recursive: true, force: true });
    await rename(partial, path);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return { kind: 'pglite', target: source, path, bytes: before.bytes, items: before.files, seconds: (performance.now() - started) / 1000 };
}

/** Replaces the PGlite data directory `dataDir` with the backup directory `input`. */
export async function restorePgliteDir(input: string, dataDir: string, options: BackupOptions = {}): Promise<BackupSummary> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const path = resolve(input);
  const target = resolve(dataDir);
  const manifestPath = join(path, MANIFEST);
  if (!existsSync(manifestPath))
    throw new BackupError(`${path} is not an embedded-store backup (no ${MANIFEST}); was it made by "troupe db backup" without DATABASE_URL?`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { format?: unknown };
  if (manifest.format !== MANIFEST_FORMAT)
    throw new BackupError(`${manifestPath} is not a Troupe embedded-store manifest (format ${JSON.stringify(manifest.format)})`);
  if (existsSync(target)) refuseWhenOpen(target, options);
  if (isNonEmptyDir(target) && options.force !== true) {
    throw new BackupError(`${target} already holds an embedded database; restoring replaces it with the backup. Pass --force to proceed`);
  }
  const incoming = fingerprint(path);
  progress(`restoring the embedded database ${target} from ${path} (${incoming.files} files, ${formatBytes(incoming.bytes)})`);
  await mkdir(dirname(target), { recursive: true });
  const staged = tempSibling(target, 'restoring');
  const replaced = tempSibling(target, 'replaced');
  try {
    await cp(path, staged, { recursive: true, filter: (from) => relative(path, from) !== MANIFEST });
    if (existsSync(target)) await rename(target, replaced);
    await rename(staged, target);
  } finally {
    await rm(staged, { recursive: true, force: true });
    await rm(replaced, { recursive: true, force: true });
  }
  return { kind: 'pglite', target, path, bytes: incoming.bytes, items: incoming.files, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// The configured store

/** Where the embedded store lives for these settings (as `openDatabase` opens it). */
export function embeddedDataDir(settings: Pick<DatabaseSettings, 'dataDir'>): string {
  return join(settings.dataDir, 'pgdata');
}

/** Backs up the configured store: the server when `databaseUrl` is set, else the embedded one. */
export function backupDatabase(settings: Pick<DatabaseSettings, 'databaseUrl' | 'dataDir'>, out: string, options: BackupOptions = {}): Promise<BackupSummary> {
  return settings.databaseUrl !== undefined ? backupPostgres(settings.databaseUrl, out, options) : backupPgliteDir(embeddedDataDir(settings), out, options);
}

/** Restores the configured store from a backup made by {@link backupDatabase} for the same kind. */
export function restoreDatabase(
  settings: Pick<DatabaseSettings, 'databaseUrl' | 'dataDir'>,
  input: string,
  options: BackupOptions = {},
): Promise<BackupSummary> {
  const isDirectoryBackup = existsSync(join(resolve(input), MANIFEST));
  if (settings.databaseUrl !== undefined) {
    if (isDirectoryBackup)
      throw new BackupError(
        `${resolve(input)} is an embedded-store backup; it cannot be restored into a PostgreSQL server (unset DATABASE_URL to restore the embedded store)`,
      );
    return restorePostgres(settings.databaseUrl, input, options);
  }
  if (existsSync(input) && statSync(input).isFile())
    throw new BackupError(
      `${resolve(input)} is a file (a server backup?); the embedded store restores from a backup directory. Set DATABASE_URL to restore into a server`,
    );
  return restorePgliteDir(input, embeddedDataDir(settings), options);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
