/**
 * A sliding one-second window of event timestamps: a fixed ring, no allocation per check.
 * Used for the orders-per-second limits (SEBI's retail algo threshold is 10 per second).
 */
export class RateWindow {
  private readonly times: number[];
  private head = 0;
  private count = 0;

  /** `capacity` events are allowed within any rolling `windowMs` (default one second). */
  constructor(
    private readonly capacity: number,
    private readonly windowMs = 1000,
  ) {
    this.times = new Array<number>(Math.max(1, capacity)).fill(0);
  }

  /** True when one more event at `nowMs` stays within the limit. */
  allows(nowMs: number): boolean {
    this.expire(nowMs);
    return this.count < this.capacity;
  }

  /** Records an event at `nowMs` (callers check {@link allows} first). */
  record(nowMs: number): void {
    this.expire(nowMs);
    if (this.count >= this.capacity) return;
    this.times[(this.head + this.count) % this.times.length] = nowMs;
    this.count += 1;
  }

  private expire(nowMs: number): void {
    while (this.count > 0 && nowMs - (this.times[this.head] ?? 0) >= this.windowMs) {
      this.head = (this.head + 1) % this.times.length;
      this.count -= 1;
    }
  }
}
