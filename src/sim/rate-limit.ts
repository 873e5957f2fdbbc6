/** Server-side rate limits of the simulator, as Kite enforces them (kite-reference §8). */

/** Per-API-key limits; every field can be overridden (tests raise them). */
export interface SimulatorRateLimits {
  readonly quotePerSecond: number;
  readonly historicalPerSecond: number;
  readonly ordersPerSecond: number;
  readonly ordersPerMinute: number;
  readonly otherPerSecond: number;
}

/** Kite's published limits. */
export const KITE_RATE_LIMITS: SimulatorRateLimits = {
  quotePerSecond: 1,
  historicalPerSecond: 3,
  ordersPerSecond: 10,
  ordersPerMinute: 400,
  otherPerSecond: 10,
};

/** Which bucket a request counts against. */
export type RateScope = 'quote' | 'historical' | 'orders' | 'other';

/** A sliding-window log: at most `limit` events in any `windowMs`. */
export class SlidingWindow {
  private readonly times: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records an event at `nowMs` when it fits; false (nothing recorded) when over the limit. */
  tryAcquire(nowMs: number): boolean {
    while (this.times.length > 0 && this.times[0]! <= nowMs - this.windowMs) this.times.shift();
    if (this.times.length >= this.limit) return false;
    this.times.push(nowMs);
    return true;
  }
}

/** All windows of one API key. */
export class RateLimiter {
  private readonly windows = new Map<string, SlidingWindow[]>();
  constructor(private readonly limits: SimulatorRateLimits) {}

  /** True when the request may go ahead (and is counted). */
  allow(apiKey: string, scope: RateScope, nowMs: number): boolean {
    const key = `${apiKey}\u0000${scope}`;
    let windows = this.windows.get(key);
    if (windows === undefined) {
      windows =
        scope === 'quote'
          ? [new SlidingWindow(this.limits.quotePerSecond, 1000)]
          : scope === 'historical'
            ? [new SlidingWindow(this.limits.historicalPerSecond, 1000)]
            : scope === 'orders'
              ? [new SlidingWindow(this.limits.ordersPerSecond, 1000), new SlidingWindow(this.limits.ordersPerMinute, 60_000)]
              : [new SlidingWindow(this.limits.otherPerSecond, 1000)];
      this.windows.set(key, windows);
    }
    // A refusal by the per-minute window still counts in the per-second one (conservative).
    return windows.every((w) => w.tryAcquire(nowMs));
  }
}
