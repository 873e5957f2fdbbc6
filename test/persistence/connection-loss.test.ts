/**
 * A PostgreSQL connection dropped while a pooled client is checked out (a transaction in
 * progress, as the journal's) must not kill the process: pg emits 'error' on the client, and an
 * 'error' event nobody listens to throws (vitest reports it as an unhandled error). The statement
 * rejects with DatabaseUnavailableError instead, and the pool serves again once the server is back.
 * A dedicated throwaway server, stopped at once (SIGQUIT, like `pg_ctl stop -m immediate`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { DatabaseUnavailableError, PostgresDatabase } from '../../src/persistence/database.js';
import { usePostgres, type DedicatedPostgresService } from '../support/services.js';

let server: DedicatedPostgresService;
let db: PostgresDatabase;

beforeAll(async () => {
  server = await usePostgres({ dedicated: true });
  db = new PostgresDatabase(server.url, { poolMin: 0, poolMax: 2, statementTimeoutMs: 5000, connectTimeoutMs: 2000 });
}, 60_000);

afterAll(async () => {
  await db?.close();
  await server?.stop();
});

describe('a connection lost while checked out', () => {
  it('rejects the transaction with DatabaseUnavailableError (no crash, no raw socket error) and the pool works again after a restart', async () => {
    const transaction = db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      // the server dies while this client is checked out, between two statements: whether its socket
      // closes before or after the next statement is sent, the client emits 'error'
      await server.kill();
      return tx.query('SELECT 2');
    });
    await expect(transaction).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);

    await server.restart();
    await eventually(async () => expect(await db.query<{ n: number }>('SELECT 3 AS n')).toEqual([{ n: 3 }]), { timeoutMs: 15_000 });
  }, 60_000);
});
