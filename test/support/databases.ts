import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PgliteDatabase, PostgresDatabase, type Database } from '../../src/persistence/database.js';
import { usePostgres, type PostgresService } from './services.js';

/** The two stores every persistence suite runs on. */
export const DATABASE_KINDS = ['postgres', 'pglite'] as const;

/**
 * A database for one `describe` block: real PostgreSQL (a fresh database from
 * {@link usePostgres}) or embedded PGlite in memory, opened before the block's tests and
 * closed after them. Call it in the `describe` body; the returned function gives the
 * database inside hooks registered after it and inside tests.
 */
export function suiteDatabase(kind: (typeof DATABASE_KINDS)[number]): () => Database {
  let service: PostgresService | undefined;
  let db: Database | undefined;
  beforeAll(async () => {
    if (kind === 'postgres') {
      service = await usePostgres();
      db = new PostgresDatabase(service.url);
    } else {
      db = await PgliteDatabase.open('memory://');
    }
  });
  afterAll(async () => {
    await db?.close();
    await service?.stop();
  });
  return () => {
    if (db === undefined) throw new Error('the suite database is opened in beforeAll: read it in a hook or a test');
    return db;
  };
}

/** What a suite of whole-Troupe runs shares: a real PostgreSQL database and a data directory. */
export interface TroupeStore {
  /** `DATABASE_URL` for the runs. */
  readonly url: string;
  /** The same database, for the suite's own queries. */
  readonly database: PostgresDatabase;
  /** `TROUPE_DATA_DIR` for the runs. */
  readonly dataDir: string;
}

/**
 * A fresh PostgreSQL database ({@link usePostgres}) and a temporary data directory for the
 * Troupe processes a suite starts, made before its tests and removed after them. Call it at the
 * top of the file; the returned function gives the store in hooks registered after it and in tests.
 */
export function suiteTroupeStore(dataDirPrefix: string): () => TroupeStore {
  let service: PostgresService | undefined;
  let store: TroupeStore | undefined;
  beforeAll(async () => {
    service = await usePostgres();
    store = { url: service.url, database: new PostgresDatabase(service.url), dataDir: mkdtempSync(join(tmpdir(), dataDirPrefix)) };
  });
  afterAll(async () => {
    await store?.database.close();
    await service?.stop();
    if (store) rmSync(store.dataDir, { recursive: true, force: true });
  });
  return () => {
    if (store === undefined) throw new Error('the suite store is made in beforeAll: read it in a hook or a test');
    return store;
  };
}
