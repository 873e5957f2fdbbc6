/** A client-side limiter that queues (never drops) calls to stay within Kite's limits. */

/** Limits: at most `perSecond` starts in any second and `perMinute` in any minute. */
export interface QueueLimits {
  readonly perSecond: number;
  readonly perMinute: number;
  /**
   * Extra spacing added to each window, ms (default 0). Kite counts requests when they arrive,
   * the limiter when they start: a small margin keeps network jitter from making a burst of
   * `perSecond` + 1 look like one second to the server.
   */
  readonly marginMs?: number;
  /**
   * `completion`: once a task settles, its slot counts from then instead of from its start (the
   * server saw the request at some moment before its answer came back), so jitter in sending can
   * never squeeze `perSecond` + 1 arrivals into a second. Default `start`.
   */
  readonly countFrom?: 'start' | 'completion';
}

/** Kite's order limits (kite-reference §8). */
export const KITE_ORDER_LIMITS: QueueLimits = { perSecond: 10, perMinute: 400, marginMs: 50 };

/** Kite's quote limit (`/quote`, `/quote/ohlc`, `/quote/ltp`): 1 request a second per API key, counted apart from the rest. */
export const KITE_QUOTE_LIMITS: QueueLimits = { perSecond: 1, perMinute: 60, marginMs: 50 };

/** Kite's limit on everything else (reads: orders, trades, positions, quotes…): 10 requests a second per API key. */
export const KITE_OTHER_LIMITS: QueueLimits = { perSecond: 10, perMinute: 600, marginMs: 50 };

/** Runs tasks in arrival order, delaying each just enough to respect the limits. */
export class QueueingRateLimiter {
  private readonly starts: number[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly limits: QueueLimits,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Schedules `task`; resolves or rejects with its outcome. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const turn = this.tail.then(() => this.waitForSlot());
    this.tail = turn.catch(() => undefined);
    if (this.limits.countFrom !== 'completion') return turn.then(task);
    return turn.then(async (slot) => {
      try {
        return await task();
      } finally {
        const at = this.starts.indexOf(slot);
        if (at >= 0) {
          this.starts[at] = Math.max(slot, this.now());
          this.starts.sort((a, b) => a - b);
        }
      }
    });
  }

  private async waitForSlot(): Promise<number> {
    for (;;) {
      const now = this.now();
      while (this.starts.length > 0 && this.starts[0]! <= now - 60_000 - (this.limits.marginMs ?? 0)) this.starts.shift();
      const margin = this.limits.marginMs ?? 0;
      const lastSecond = this.starts.filter((t) => t > now - 1000 - margin);
      let waitMs = 0;
      if (lastSecond.length >= this.limits.perSecond) waitMs = lastSecond[lastSecond.length - this.limits.perSecond]! + 1000 + margin - now;
      if (this.starts.length >= this.limits.perMinute)
        waitMs = Math.max(waitMs, this.starts[this.starts.length - this.limits.perMinute]! + 60_000 + margin - now);
      if (waitMs <= 0) {
        this.starts.push(now);
        return now;
      }
      await this.sleep(waitMs);
    }
  }
}
