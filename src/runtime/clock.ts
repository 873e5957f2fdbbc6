import type { Clock } from '../model/index.js';

/** Wall-clock time. */
export const wallClock: Clock = { nowMs: () => Date.now() };

/** A clock the caller moves: market time in backtests and replays, manual time in tests. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  nowMs(): number {
    return this.current;
  }
  /** Moves to `ms`; time never goes backwards. */
  advanceTo(ms: number): void {
    if (ms > this.current) this.current = ms;
  }
}
