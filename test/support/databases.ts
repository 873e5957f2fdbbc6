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
