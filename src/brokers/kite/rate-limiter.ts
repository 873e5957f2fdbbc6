/** A client-side limiter that queues (never drops) calls to stay within Kite's limits. */

/** Limits: at most `perSecond` starts in any second and `perMinute` in any minute. */
export interface QueueLimits {
  readonly perSecond: number;
  readonly perMinute: number;
}

/** Kite's order limits (kite-reference §8). */
export const KITE_ORDER_LIMITS: QueueLimits = { perSecond: 10, perMinute: 400 };

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
    return turn.then(task);
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.starts.length > 0 && this.starts[0]! <= now - 60_000) this.starts.shift();
      const lastSecond = this.starts.filter((t) => t > now - 1000);
      let waitMs = 0;
      if (lastSecond.length >= this.limits.perSecond) waitMs = lastSecond[lastSecond.length - this.limits.perSecond]! + 1000 - now;
      if (this.starts.length >= this.limits.perMinute) waitMs = Math.max(waitMs, this.starts[this.starts.length - this.limits.perMinute]! + 60_000 - now);
      if (waitMs <= 0) {
        this.starts.push(now);
        return;
      }
      await this.sleep(waitMs);
    }
  }
}
