import type { Clock } from '../model/index.js';

export { ManualClock } from '../actors/core/index.js';

/** Wall-clock time. */
export const wallClock: Clock = { nowMs: () => Date.now() };
