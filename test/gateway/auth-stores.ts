import { afterAll, beforeAll } from 'vitest';
import type { AuthStore } from '../../src/persistence/auth-store.types.js';
import { InMemoryAuthStore } from '../../src/gateway/auth/in-memory-auth-store.js';
import { PostgresAuthStore } from '../../src/persistence/auth-store.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { usePostgres, type PostgresService } from '../support/services.js';

/** The auth stores a suite runs against, each made fresh (the PostgreSQL one on an emptied `users`). */
export interface AuthStores {
  readonly stores: readonly (readonly [string, () => Promise<AuthStore>])[];
  /** The suite's PostgreSQL database (migrated), for checks behind the store. */
  database(): PostgresDatabase;
}

/** A migrated PostgreSQL database for the calling test file (hooks registered here) and the store factories. */
export function useAuthStores(): AuthStores {
  let pg: PostgresService;
  let database: PostgresDatabase;
  beforeAll(async () => {
    pg = await usePostgres();
    database = new PostgresDatabase(pg.url);
    await migrate(database);
  });
  afterAll(async () => {
    await database.close();
    await pg.stop();
  });
  return {
    stores: [
      ['in memory', () => Promise.resolve(new InMemoryAuthStore())],
      [
        'on PostgreSQL',
        async () => {
          await database.query('TRUNCATE users CASCADE');
          return new PostgresAuthStore(database);
        },
      ],
    ],
    database: () => database,
  };
}
