/**
 * The gateway while its PostgreSQL stores are down (a dedicated throwaway server this test kills
 * and restarts): every request that needs a store — an API key looked up, a login, a refresh, a
 * key listing, the audit history, a strategy change — answers 503 `unavailable` with a
 * `Retry-After` header, never a 500; requests that need no store (a JWT and the in-memory state)
 * still answer 200; once the server is back, every one of them succeeds again by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { PostgresAuditStore } from '../../src/persistence/audit-store.js';
import { PostgresAuthStore } from '../../src/persistence/auth-store.js';
import { PostgresDatabase } from '../../src/persistence/database.js';
import { PostgresGatewayStateStore } from '../../src/persistence/gateway-state-store.js';
import { migrate } from '../../src/persistence/migrate.js';
import { usePostgres, type DedicatedPostgresService } from '../support/services.js';
import { ADMIN, login, startHarness, type Harness } from './harness.js';

let server: DedicatedPostgresService;
let database: PostgresDatabase;
let harness: Harness;

beforeAll(async () => {
  server = await usePostgres({ dedicated: true });
  database = new PostgresDatabase(server.url, { poolMin: 0, poolMax: 4, statementTimeoutMs: 5000, connectTimeoutMs: 1000 });
  await migrate(database);
  harness = await startHarness(
    {},
    { authStore: new PostgresAuthStore(database), auditStore: new PostgresAuditStore(database), stateStore: new PostgresGatewayStateStore(database) },
  );
}, 60_000);

afterAll(async () => {
  await harness?.close();
  await database?.close();
  await server?.stop();
});

interface Answer {
  readonly name: string;
  readonly status: number;
  readonly code: string | undefined;
  readonly retryAfter: string | undefined;
}

describe('stores down (dedicated PostgreSQL killed and restarted)', () => {
  it('answers 503 unavailable with Retry-After (never 500) for API-key and JWT requests that need a store, and recovers after the restart', async () => {
    const { app } = harness;
    await harness.feed('INFY', [100_000, 100_100, 100_000]);
    const admin = await login(app);
    const bearer = { authorization: admin.authorization };
    const makeKey = async (name: string): Promise<string> => {
      const created = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer, payload: { name, role: 'trader' } });
      expect(created.statusCode).toBe(201);
      return created.json<{ key: string }>().key;
    };
    // keys first used during the outage: each must be looked up in the store
    const keys = [await makeKey('outage-1'), await makeKey('outage-2'), await makeKey('after')];
    // the throwaway server commits asynchronously (tests only): make what was written so far survive its crash
    await database.query('CHECKPOINT');

    const requests = (key: string) =>
      [
        { name: 'API key: positions', method: 'GET', url: '/api/v1/positions', headers: { 'x-api-key': key } },
        {
          name: 'API key: place an order',
          method: 'POST',
          url: '/api/v1/orders',
          headers: { 'x-api-key': key },
          payload: { symbol: 'INFY', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPricePaise: 95_000 },
        },
        { name: 'login', method: 'POST', url: '/api/v1/auth/login', headers: {}, payload: ADMIN },
        { name: 'refresh', method: 'POST', url: '/api/v1/auth/refresh', headers: {}, payload: { refreshToken: admin.refreshToken } },
        { name: 'JWT: API keys', method: 'GET', url: '/api/v1/api-keys', headers: bearer },
        { name: 'JWT: audit history', method: 'GET', url: '/api/v1/audit', headers: bearer },
        { name: 'JWT: pause a strategy', method: 'POST', url: '/api/v1/strategies/ema/pause', headers: bearer },
      ] as const;
    const ask = async (request: ReturnType<typeof requests>[number]): Promise<Answer> => {
      const response = await app.inject({
        method: request.method,
        url: request.url,
        headers: request.headers,
        ...('payload' in request ? { payload: request.payload } : {}),
      });
      const body = response.body === '' ? {} : response.json<{ error?: { code: string } }>();
      const retryAfter = response.headers['retry-after'];
      return { name: request.name, status: response.statusCode, code: body.error?.code, retryAfter: retryAfter === undefined ? undefined : String(retryAfter) };
    };

    await server.kill();
    const down: Answer[] = [];
    for (const key of keys.slice(0, 2)) for (const request of requests(key)) down.push(await ask(request));
    expect(down.filter((answer) => answer.status >= 500 && answer.status !== 503)).toEqual([]);
    for (const answer of down) {
      expect({ status: answer.status, code: answer.code }, answer.name).toEqual({ status: 503, code: 'unavailable' });
      expect(answer.retryAfter, answer.name).toMatch(/^[1-9]\d*$/);
    }
    // a request that needs no store still answers
    expect((await app.inject({ method: 'GET', url: '/api/v1/positions', headers: bearer })).statusCode).toBe(200);

    await server.restart();
    await eventually(async () => expect((await ask(requests(keys[2]!)[2])).status).toBe(200), { timeoutMs: 20_000 });
    for (const request of requests(keys[2]!)) {
      const answer = await ask(request);
      expect(answer.status, `${answer.name}: ${answer.status} ${answer.code ?? ''}`).toBeLessThan(300);
    }
  }, 60_000);
});
