/**
 * Labels: the direction of the close over the next `horizon` bars, with a dead band.
 *
 * r = close[t + horizon] / close[t] − 1 (the bar t is the bar whose features form the row:
 * known at its close; the label reads only bars after it).
 * - `ternary`: up when r > threshold, down when r < −threshold, flat otherwise.
 * - `binary`: up when r > threshold, down when r < −threshold; a move inside the band has no
 *   label (the row is left out of training and evaluation).
 * No label (null) for the last `horizon` bars of a series, and, when `sameSession` is set
 * (the default for intraday bars), when bar t + horizon is on another IST day than bar t:
 * an intraday model should not be taught overnight gaps it cannot trade.
 */
import { istDate, type Bar } from '../model/index.js';
import type { ClassName } from './model.js';

/** How rows are labelled. */
export interface LabelOptions {
  /** Bars ahead (≥ 1). */
  readonly horizon: number;
  /** Dead band as a fraction (0.001 = 0.1 %), ≥ 0. */
  readonly threshold: number;
  readonly mode: 'ternary' | 'binary';
  /** Only label when bar t + horizon is in the same IST session as bar t. */
  readonly sameSession: boolean;
}

/** Class names in column order for a labelling mode. */
export function labelClasses(mode: LabelOptions['mode']): readonly ClassName[] {
  return mode === 'ternary' ? ['down', 'flat', 'up'] : ['down', 'up'];
}

/** Checks label options; throws a RangeError naming the bad one. */
export function checkLabelOptions(options: LabelOptions): void {
  if (!Number.isSafeInteger(options.horizon) || options.horizon < 1) throw new RangeError(`horizon must be a whole number of bars ≥ 1, got ${options.horizon}`);
  if (!Number.isFinite(options.threshold) || options.threshold < 0) throw new RangeError(`threshold must be ≥ 0, got ${options.threshold}`);
}

/**
 * The label of every bar of one symbol's series: an index into {@link labelClasses}, or null
 * (no future bar far enough, across a session when `sameSession`, or inside the band in binary mode).
 */
export function directionLabels(bars: readonly Bar[], options: LabelOptions): (number | null)[] {
  checkLabelOptions(options);
  const { horizon, threshold, mode, sameSession } = options;
  return bars.map((bar, t) => {
    const future = bars[t + horizon];
    if (future === undefined) return null;
    if (sameSession && istDate(future.startMs) !== istDate(bar.startMs)) return null;
    const move = future.closePaise / bar.closePaise - 1;
    if (move > threshold) return mode === 'ternary' ? 2 : 1;
    if (move < -threshold) return 0;
    return mode === 'ternary' ? 1 : null;
  });
}
