/**
 * Rate limits of the credential endpoints (login, refresh, TOTP, password change): per client IP
 * and per user name, counted on every attempt whatever headers come with it. An API key's own
 * limit (or its lifted one) never applies to these: guessing a password through a key is limited
 * like guessing it without one. Counters are shared through Redis when given (every gateway
 * process on one Redis shares them), and kept in this process when Redis is absent or failing.
 */
import { HIT, type RateLimitRedis } from './rate-limit-store.js';

/** Attempts allowed per minute. */
export interface CredentialLimits {
  readonly perIpPerMinute: number;
  readonly perUserPerMinute: number;
}

export const DEFAULT_CREDENTIAL_LIMITS: CredentialLimits = { perIpPerMinute: 30, perUserPerMinute: 10 };

const WINDOW_MS = 60_000;
/** Counters kept in this process at most (expired ones are dropped beyond). */
const LOCAL_MAX = 50_000;

/** The outcome of an attempt: allowed, or refused with the seconds until the window resets. */
export type CredentialVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSec: number; readonly limitedBy: 'ip' | 'user' };

export class CredentialLimiter {
  private readonly local = new Map<string, { count: number; resetAtMs: number }>();

  constructor(
    private readonly limits: CredentialLimits,
    private readonly redis?: RateLimitRedis,
    private readonly onRedisError: (error: Error) => void = () => undefined,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Counts one attempt from `ip` for `username` (when known) and says whether it may go on. */
  async attempt(ip: string, username: string | undefined): Promise<CredentialVerdict> {
    const byIp = await this.hit(`credential:ip:${ip}`);
    const byUser = username === undefined ? undefined : await this.hit(`credential:user:${username.toLowerCase()}`);
    if (byIp.count > this.limits.perIpPerMinute) return { allowed: false, retryAfterSec: seconds(byIp.ttlMs), limitedBy: 'ip' };
    if (byUser !== undefined && byUser.count > this.limits.perUserPerMinute) return { allowed: false, retryAfterSec: seconds(byUser.ttlMs), limitedBy: 'user' };
    return { allowed: true };
  }

  private async hit(key: string): Promise<{ readonly count: number; readonly ttlMs: number }> {
    if (this.redis !== undefined) {
      try {
        const [count, ttl] = (await this.redis.eval(HIT, 1, `ratelimit:${key}`, WINDOW_MS)) as [number, number];
        return { count: Number(count), ttlMs: Number(ttl) };
      } catch (error) {
        // fail closed enough: count here rather than let guesses through while Redis is away
        this.onRedisError(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return this.hitLocal(key);
  }

  private hitLocal(key: string): { readonly count: number; readonly ttlMs: number } {
    const now = this.nowMs();
    let entry = this.local.get(key);
    if (entry === undefined || entry.resetAtMs <= now) {
      if (this.local.size >= LOCAL_MAX) this.prune(now);
      entry = { count: 0, resetAtMs: now + WINDOW_MS };
      this.local.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, ttlMs: entry.resetAtMs - now };
  }

  private prune(now: number): void {
    for (const [key, entry] of this.local) if (entry.resetAtMs <= now) this.local.delete(key);
    // still full (a flood of distinct keys within one window): start afresh rather than grow
    if (this.local.size >= LOCAL_MAX) this.local.clear();
  }
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
