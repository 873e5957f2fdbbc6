/**
 * A STAND-IN input for the LSTM until the ML service's feature set feeds it: four features per
 * bar computed from OHLCV only, and a direction label over the next bars. It exists to train
 * and measure the LSTM on real bars (`../shared/data`); it is not the feature definition that
 * live inference uses.
 *
 * Features of bar t (each uses bars ≤ t only):
 *   0 log return      ln(close_t / close_t−1)
 *   1 range           (high_t − low_t) / close_t−1
 *   2 gap             ln(open_t / close_t−1)
 *   3 volume z-score  (ln(1 + volume_t) − mean) / sd over ln(1 + volume) of bars t−20 … t−1
 * Label of the window ending at bar t (uses bars > t only): with `flatBand` 0, 1 when
 * close_t+h > close_t, else 0; with a band b > 0, 0 (down) when the return over h bars is
 * below −b, 2 (up) above +b, 1 (flat) between.
 */
import type { Bar } from '../../model/market.js';
import { selectSamples, type SequenceDataset } from './dataset.js';

/** Columns of the stand-in rows, in order. */
export const STAND_IN_FEATURES = ['log_return', 'range', 'gap', 'volume_z'] as const;
/** Bars of volume history behind the volume z-score. */
export const VOLUME_LOOKBACK_BARS = 20;

/** Options of {@link standInSamples}. */
export interface StandInOptions {
  /** Bars per window (T). */
  readonly timeSteps: number;
  /** Label horizon h in bars. */
  readonly horizonBars: number;
  /** 0: two classes (down-or-flat / up); > 0: three classes with this return band (0.005 = 0.5 %). */
  readonly flatBand?: number;
}

/** Windows with the times that place them, for a split in time. */
export interface TimedSamples {
  readonly dataset: SequenceDataset;
  /** Start time of each window's last bar (the bar the prediction is made at). */
  readonly endMs: Float64Array;
  /** Start time of the bar each label is read at (last bar + h). */
  readonly labelMs: Float64Array;
}

/** The stand-in feature rows of every bar ([bars, 4]; rows before the volume lookback are NaN). */
export function standInFeatureRows(bars: readonly Bar[]): Float32Array {
  const features = STAND_IN_FEATURES.length;
  const rows = new Float32Array(bars.length * features).fill(Number.NaN);
  const logVolume = bars.map((bar) => Math.log1p(bar.volume));
  for (let t = VOLUME_LOOKBACK_BARS; t < bars.length; t += 1) {
    const bar = bars[t]!;
    const previousClose = bars[t - 1]!.closePaise;
    let sum = 0;
    let sumSquares = 0;
    for (let k = t - VOLUME_LOOKBACK_BARS; k < t; k += 1) {
      sum += logVolume[k]!;
      sumSquares += logVolume[k]! ** 2;
    }
    const mean = sum / VOLUME_LOOKBACK_BARS;
    const deviation = Math.sqrt(Math.max(0, sumSquares / VOLUME_LOOKBACK_BARS - mean * mean));
    const offset = t * features;
    rows[offset] = Math.log(bar.closePaise / previousClose);
    rows[offset + 1] = (bar.highPaise - bar.lowPaise) / previousClose;
    rows[offset + 2] = Math.log(bar.openPaise / previousClose);
    rows[offset + 3] = deviation > 0 ? (logVolume[t]! - mean) / deviation : 0;
  }
  return rows;
}

/**
 * Every window of `timeSteps` bars with a full feature history and a label `horizonBars`
 * later, in time order, from the bars of one symbol (time-ordered, one interval).
 */
export function standInSamples(bars: readonly Bar[], options: StandInOptions): TimedSamples {
  const { timeSteps, horizonBars } = options;
  const flatBand = options.flatBand ?? 0;
  if (!Number.isInteger(timeSteps) || timeSteps < 1) throw new RangeError(`timeSteps must be a positive integer, got ${timeSteps}`);
  if (!Number.isInteger(horizonBars) || horizonBars < 1) throw new RangeError(`horizonBars must be a positive integer, got ${horizonBars}`);
  if (!(flatBand >= 0)) throw new RangeError(`flatBand must be ≥ 0, got ${flatBand}`);
  const features = STAND_IN_FEATURES.length;
  const rows = standInFeatureRows(bars);
  const firstEnd = VOLUME_LOOKBACK_BARS + timeSteps - 1;
  const lastEnd = bars.length - 1 - horizonBars;
  const count = Math.max(0, lastEnd - firstEnd + 1);
  const stride = timeSteps * features;
  const sequences = new Float32Array(count * stride);
  const labels = new Int32Array(count);
  const endMs = new Float64Array(count);
  const labelMs = new Float64Array(count);
  for (let n = 0; n < count; n += 1) {
    const end = firstEnd + n;
    sequences.set(rows.subarray((end - timeSteps + 1) * features, (end + 1) * features), n * stride);
    const now = bars[end]!.closePaise;
    const later = bars[end + horizonBars]!.closePaise;
    if (flatBand === 0) {
      labels[n] = later > now ? 1 : 0;
    } else {
      const change = later / now - 1;
      labels[n] = change < -flatBand ? 0 : change > flatBand ? 2 : 1;
    }
    endMs[n] = bars[end]!.startMs;
    labelMs[n] = bars[end + horizonBars]!.startMs;
  }
  return { dataset: { timeSteps, features, sequences, labels }, endMs, labelMs };
}

/** Concatenates samples of several symbols (same T and F). */
export function concatSamples(parts: readonly TimedSamples[]): TimedSamples {
  const first = parts[0];
  if (!first) throw new RangeError('nothing to concatenate');
  const { timeSteps, features } = first.dataset;
  for (const part of parts) {
    if (part.dataset.timeSteps !== timeSteps || part.dataset.features !== features) throw new RangeError('samples differ in window shape');
  }
  const total = parts.reduce((sum, part) => sum + part.dataset.labels.length, 0);
  const sequences = new Float32Array(total * timeSteps * features);
  const labels = new Int32Array(total);
  const endMs = new Float64Array(total);
  const labelMs = new Float64Array(total);
  let at = 0;
  for (const part of parts) {
    sequences.set(part.dataset.sequences, at * timeSteps * features);
    labels.set(part.dataset.labels, at);
    endMs.set(part.endMs, at);
    labelMs.set(part.labelMs, at);
    at += part.dataset.labels.length;
  }
  return { dataset: { timeSteps, features, sequences, labels }, endMs, labelMs };
}

/**
 * A walk-forward split at `cutMs`: training keeps the windows whose label is read before the
 * cut (so no training label looks past it), test keeps the windows that end at or after it.
 * Windows that end before the cut but are labelled after it are in neither.
 */
export function splitAtTime(samples: TimedSamples, cutMs: number): { train: TimedSamples; test: TimedSamples } {
  const pick = (keep: (n: number) => boolean): TimedSamples => {
    const indices: number[] = [];
    for (let n = 0; n < samples.endMs.length; n += 1) if (keep(n)) indices.push(n);
    return {
      dataset: selectSamples(samples.dataset, indices),
      endMs: Float64Array.from(indices, (n) => samples.endMs[n]!),
      labelMs: Float64Array.from(indices, (n) => samples.labelMs[n]!),
    };
  };
  return { train: pick((n) => samples.labelMs[n]! < cutMs), test: pick((n) => samples.endMs[n]! >= cutMs) };
}
