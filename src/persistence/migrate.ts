/**
 * Versioned SQL migrations (`migrations/NNN_name.sql`), applied at start-up in one transaction
 * under an advisory lock and recorded in `schema_migrations`. Refuses to run when the database
 * has a version the code does not know (a newer Troupe wrote it) or when an applied file changed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

/** One migration file. */
export interface Migration {
  /** From the file name's number: `001_initial.sql` → 1. */
  readonly version: number;
  /** From the file name: `001_initial.sql` → `initial`. */
  readonly name: string;
  readonly sql: string;
  /** sha256 of the SQL text (hex). */
  readonly checksum: string;
}

/** The database has a schema version the code does not know: run a newer Troupe. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly codeVersion: number,
  ) {
    super(`the database schema is at version ${databaseVersion} but this Troupe knows versions up to ${codeVersion}; refusing to run (upgrade Troupe)`);
    this.name = 'SchemaTooNewError';
  }
}

/** An applied migration's file no longer matches what was applied. */
export class MigrationChecksumError extends Error {
  constructor(
    readonly version: number,
    readonly migrationName: string,
  ) {
    super(`migration ${String(version).padStart(3, '0')}_${migrationName} was changed after it was applied (checksum differs); add a new migration instead`);
    this.name = 'MigrationChecksumError';
  }
}

/** Result of {@link migrate}. */
export interface MigrationReport {
  /** Versions applied by this call, in order (empty when the schema was current). */
  readonly applied: number[];
  /** Schema version after the call. */
  readonly version: number;
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
/** Arbitrary constant: the advisory lock key that serialises concurrent migrators. */
const MIGRATION_LOCK_KEY = 4_711_0001;

/** sha256 hex of a migration's text. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Builds a migration from a file name and its text (throws on a bad name). */
export function migrationFrom(fileName: string, sql: string): Migration {
  const match = FILE_PATTERN.exec(fileName);
  if (match === null) throw new Error(`migration file name must look like 001_name.sql, got ${fileName}`);
  return { version: Number(match[1]), name: match[2] ?? '', sql, checksum: checksumOf(sql) };
}

/** The migrations shipped with this code (`src/persistence/migrations`), sorted by version. */
export function loadMigrations(directory: string = fileURLToPath(new URL('./migrations/', import.meta.url))): Migration[] {
  const migrations = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => migrationFrom(file, readFileSync(`${directory}/${file}`, 'utf8')));
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(`migrations must be numbered 1, 2, 3 … without gaps; found ${migration.version} at position ${index + 1}`);
  });
  return migrations;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Brings the schema up to date in one transaction. Idempotent: a current schema applies nothing.
 * Throws {@link SchemaTooNewError} or {@link MigrationChecksumError} without changing anything.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = loadMigrations()): Promise<MigrationReport> {
  const known = migrations.reduce((max, migration) => Math.max(max, migration.version), 0);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await tx.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    const newest = applied.reduce((max, row) => Math.max(max, row.version), 0);
    if (newest > known) throw new SchemaTooNewError(newest, known);
    const byVersion = new Map(migrations.map((migration) => [migration.version, migration]));
    for (const row of applied) {
      const migration = byVersion.get(row.version);
      if (migration === undefined || migration.checksum !== row.checksum) throw new MigrationChecksumError(row.version, row.name);
    }
    const done = new Set(applied.map((row) => row.version));
    const appliedNow: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      appliedNow.push(migration.version);
    }
    return { applied: appliedNow, version: Math.max(newest, ...appliedNow) };
  });
}
