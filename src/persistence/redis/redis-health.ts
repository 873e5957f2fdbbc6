/**
 * Whether Redis is reachable right now, for health, logs and metrics. Redis is the hot tier
 * (snapshots, quotes, rate-limit counters, leases); when it goes away Troupe keeps trading on
 * the durable path (PostgreSQL) and says so here: `degraded` with the reason, one warning log
 * when it goes, one info log when it is back. Probes with PING every `intervalMs` and listens
 * to the client's connection events, so an outage shows within about a second.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.js';

export interface RedisHealthStatus {
  readonly state: 'ok' | 'degraded';
  /** When the current state began (epoch ms). */
  readonly sinceMs: number;
  readonly lastError?: string;
  /** Outages seen since start. */
  readonly outages: number;
}

/** What stays degraded while Redis is down (logged and served by the health endpoint). */
export const REDIS_DEGRADED_IMPACT =
  'snapshots go to PostgreSQL only (slower restarts), rate-limit counters are not shared (requests pass), single-writer leases cannot be renewed (PostgreSQL still fences journal writes)';

export class RedisHealth {
  private state: 'ok' | 'degraded' = 'ok';
  private sinceMs = Date.now();
  private lastError: string | undefined;
  private outages = 0;
  private readonly timer: NodeJS.Timeout;
  private probing = false;
  private readonly probeListeners = new Set<(durationMs: number, ok: boolean) => void>();
  private readonly onClose = (): void => this.degrade('connection closed');
  private readonly onReady = (): void => void this.probe();

  constructor(
    private readonly client: Redis,
    private readonly options: { readonly intervalMs?: number; readonly log?: Logger; readonly onChange?: (status: RedisHealthStatus) => void } = {},
  ) {
    client.on('close', this.onClose);
    client.on('ready', this.onReady);
    this.timer = setInterval(() => void this.probe(), options.intervalMs ?? 1000);
    this.timer.unref();
  }

  status(): RedisHealthStatus {
    return { state: this.state, sinceMs: this.sinceMs, outages: this.outages, ...(this.lastError === undefined ? {} : { lastError: this.lastError }) };
  }

  /** Hears every PING's round trip (ms) and outcome (latency metrics). Returns the unsubscribe function. */
  onProbe(listener: (durationMs: number, ok: boolean) => void): () => void {
    this.probeListeners.add(listener);
    return () => this.probeListeners.delete(listener);
  }

  /** One PING now; resolves with the state after it. */
  async probe(): Promise<RedisHealthStatus> {
    if (this.probing) return this.status();
    this.probing = true;
    const startedMs = performance.now();
    let ok = false;
    try {
      await this.client.ping();
      ok = true;
      this.recover();
    } catch (error) {
      this.degrade(error instanceof Error ? error.message : String(error));
    } finally {
      this.probing = false;
    }
    const durationMs = performance.now() - startedMs;
    for (const listener of this.probeListeners) listener(durationMs, ok);
    return this.status();
  }

  private degrade(reason: string): void {
    this.lastError = reason;
    if (this.state === 'degraded') return;
    this.state = 'degraded';
    this.sinceMs = Date.now();
    this.outages += 1;
    this.options.log?.warn(
      { dependency: 'redis', reason, impact: REDIS_DEGRADED_IMPACT },
      'redis is unreachable: trading continues on the durable path (PostgreSQL); degraded',
    );
    this.options.onChange?.(this.status());
  }

  private recover(): void {
    if (this.state === 'ok') return;
    const downMs = Date.now() - this.sinceMs;
    this.state = 'ok';
    this.sinceMs = Date.now();
    this.lastError = undefined;
    this.options.log?.info({ dependency: 'redis', downMs }, 'redis is back: hot tier restored');
    this.options.onChange?.(this.status());
  }

  stop(): void {
    clearInterval(this.timer);
    this.client.off('close', this.onClose);
    this.client.off('ready', this.onReady);
  }
}
