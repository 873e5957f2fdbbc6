import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { InMemoryAuthStore } from '../../src/gateway/auth/in-memory-auth-store.js';
import { connectRedis } from '../../src/persistence/redis/redis-key-value.js';
import { login, startHarness, type Harness } from './harness.js';
import { useRedis, type DedicatedRedisService, type RedisService } from '../support/services.js';

let redisService: RedisService;
let dedicated: DedicatedRedisService;
const clients: Redis[] = [];
beforeAll(async () => {
  [redisService, dedicated] = await Promise.all([useRedis(), useRedis({ dedicated: true })]);
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await Promise.all([redisService.stop(), dedicated.stop()]);
});

const connect = async (url: string, keyPrefix: string): Promise<Redis> => {
  const client = await connectRedis(url, { keyPrefix });
  clients.push(client);
  return client;
};

describe('rate limits in Redis', () => {
  it('two gateway processes on one Redis share the 100/min budget of a client (429 on the 101st in total)', async () => {
    const harnesses: Harness[] = [];
    try {
      // the same users on both (one auth store, the same JWT secret), as behind a load balancer
      const authStore = new InMemoryAuthStore();
      for (let i = 0; i < 2; i += 1)
        harnesses.push(await startHarness({ rateLimitPerMinute: 100 }, { authStore, rateLimitRedis: await connect(redisService.url, redisService.keyPrefix) }));
      const [a, b] = harnesses as [Harness, Harness];
      const { authorization } = await login(a.app);
      let ok = 0;
      for (let i = 0; i < 100; i += 1) {
        const gateway = i % 2 === 0 ? a : b;
        const response = await gateway.app.inject({ url: '/api/v1/strategies', headers: { authorization } });
        expect(response.statusCode).toBe(200);
        expect(response.headers['ratelimit-remaining']).toBe(String(99 - i));
        ok += 1;
      }
      expect(ok).toBe(100);
      for (const gateway of [a, b]) {
        const limited = await gateway.app.inject({ url: '/api/v1/instruments', headers: { authorization } });
        expect(limited.statusCode).toBe(429);
        expect(limited.json()).toMatchObject({ error: { code: 'rate-limited' } });
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(limited.headers['ratelimit-limit']).toBe('100');
      }
      // another client has its own budget; health and metrics stay exempt
      expect((await b.app.inject({ url: '/api/v1/strategies', remoteAddress: '10.0.0.9' })).statusCode).toBe(401);
      expect((await b.app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
      // the counters live in Redis under the configured prefix
      const probe = await connect(redisService.url, '');
      const keys = await probe.keys(`${redisService.keyPrefix}ratelimit:*`);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      const ttl = await probe.pttl(keys.find((key) => key.includes('user:'))!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      for (const harness of harnesses) await harness.close();
    }
  });

  it('when Redis dies, requests pass (not limited, never a 500) and limits come back with it', async () => {
    const harness = await startHarness({ rateLimitPerMinute: 3 }, { rateLimitRedis: await connect(dedicated.url, dedicated.keyPrefix) });
    try {
      const { authorization } = await login(harness.app);
      await dedicated.kill();
      for (let i = 0; i < 6; i += 1) expect((await harness.app.inject({ url: '/api/v1/strategies', headers: { authorization } })).statusCode).toBe(200);
      await dedicated.restart();
      let limitedAt = 0;
      for (let i = 1; i <= 30 && limitedAt === 0; i += 1) {
        const status = (await harness.app.inject({ url: '/api/v1/strategies', headers: { authorization } })).statusCode;
        if (status === 429) limitedAt = i;
        else {
          expect(status).toBe(200);
          if (i > 3) await new Promise((resolve) => setTimeout(resolve, 100)); // the client reconnecting
        }
      }
      expect(limitedAt).toBeGreaterThan(3);
    } finally {
      await harness.close();
    }
  });

  it('a Redis outage is logged once when the counters go and once when they are back, not per request', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write: (chunk: Buffer, _encoding, done) => (
          lines.push(
            ...chunk
              .toString()
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as { msg: string }),
          ),
          done()
        ),
      }),
    );
    const harness = await startHarness({ rateLimitPerMinute: 1_000 }, { rateLimitRedis: await connect(dedicated.url, dedicated.keyPrefix), logger });
    const count = (prefix: string): number => lines.filter((line) => line.msg.startsWith(prefix)).length;
    try {
      const { authorization } = await login(harness.app);
      await dedicated.kill();
      for (let i = 0; i < 50; i += 1) expect((await harness.app.inject({ url: '/api/v1/strategies', headers: { authorization } })).statusCode).toBe(200);
      expect(count('rate-limit counters in Redis are unavailable')).toBe(1);
      await dedicated.restart();
      await eventually(
        async () => {
          expect((await harness.app.inject({ url: '/api/v1/strategies', headers: { authorization } })).statusCode).toBe(200);
          expect(count('rate-limit counters in Redis work again')).toBe(1);
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      expect(count('rate-limit counters in Redis are unavailable')).toBe(1);
    } finally {
      await harness.close();
    }
  });
});
