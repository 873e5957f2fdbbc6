/**
 * A @fastify/rate-limit store in Redis, so that every gateway process on one Redis shares a
 * client's budget (100/min means 100/min in total, not per process). One Lua call per request:
 * INCR the client's counter, start its window (PEXPIRE) on the first hit, return count and
 * remaining window. Keys go under the client's `keyPrefix` (config `TROUPE_REDIS_KEY_PREFIX`)
 * plus `ratelimit:`. The budget is one per client across routes (`child` shares it).
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** INCR a counter, starting its window on the first hit; returns `{count, remaining window ms}`. */
export const HIT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

/** The Redis commands the store needs (an ioredis client; tests may pass a fake). */
export type RateLimitRedis = Pick<Redis, 'eval'>;

/**
 * Builds the store class @fastify/rate-limit instantiates (its `store` option). `onError` is told
 * when the counters become unavailable (the first failure, not every one), `onRecover` when they work again.
 */
export function redisRateLimitStore(
  redis: RateLimitRedis,
  namespace = 'ratelimit:',
  onError: (error: Error) => void = () => undefined,
  onRecover: () => void = () => undefined,
): FastifyRateLimitStoreCtor {
  let failing = false;
  class RedisRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      redis.eval(HIT, 1, `${namespace}${key}`, Math.max(1, Math.trunc(timeWindow))).then(
        (result) => {
          if (failing) {
            failing = false;
            onRecover();
          }
          const [current, ttl] = result as [number, number];
          callback(null, { current: Number(current), ttl: Number(ttl) });
        },
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          if (!failing) {
            failing = true;
            onError(failure);
          }
          callback(failure);
        },
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return RedisRateLimitStore;
}
