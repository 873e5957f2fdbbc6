/**
 * Samples for training and evaluation: each ready feature row of each symbol with its label,
 * and the walk-forward split (train on the past, test on a later window; never shuffled
 * across time).
 */
import type { Bar } from '../model/market.js';
import { featureRows, modelInput, type FeatureRow } from './features.js';
import { directionLabels, labelClasses, type LabelOptions } from './labels.js';
import type { ClassName, FeatureSchema } from './model.js';

/** One labelled row. */
export interface Sample {
  readonly symbol: string;
  /** Start of the bar whose close the features describe. */
  readonly startMs: number;
  /** Start of the bar the label reads (t + horizon): the last bar the sample depends on. */
  readonly labelMs: number;
  /** Model input (float32, the schema's order). */
  readonly x: Float32Array;
  /** Index into `classes`. */
  readonly y: number;
}

/** Labelled rows of several symbols. */
export interface Dataset {
  readonly schema: FeatureSchema;
  readonly classes: readonly ClassName[];
  readonly labels: LabelOptions;
  /** Sorted by (startMs, symbol). */
  readonly samples: readonly Sample[];
}

/**
 * Samples of every symbol: ready rows (past the warm-up) that have a label. `features`: the
 * symbols' feature rows when already computed (one per bar), to label the same rows twice.
 */
export function buildDataset(
  series: ReadonlyMap<string, readonly Bar[]>,
  schema: FeatureSchema,
  labels: LabelOptions,
  features?: ReadonlyMap<string, readonly FeatureRow[]>,
): Dataset {
  const samples: Sample[] = [];
  for (const [symbol, bars] of series) {
    const rows = features?.get(symbol) ?? featureRows(bars);
    if (rows.length !== bars.length) throw new RangeError(`${symbol}: ${rows.length} feature rows for ${bars.length} bars`);
    const y = directionLabels(bars, labels);
    rows.forEach((row, t) => {
      const label = y[t];
      if (!row.ready || label === null || label === undefined) return;
      samples.push({ symbol, startMs: row.startMs, labelMs: bars[t + labels.horizon]!.startMs, x: modelInput(row.values, schema), y: label });
    });
  }
  samples.sort((a, b) => a.startMs - b.startMs || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return { schema, classes: labelClasses(labels.mode), labels, samples };
}

/** A walk-forward split. */
export interface WalkForwardSplit {
  /** Rows whose label is known before `testFromMs` (purged: no label reads the test window). */
  readonly train: readonly Sample[];
  /** Rows from `testFromMs` on. */
  readonly test: readonly Sample[];
}

/**
 * Train on rows whose label bar starts before `testFromMs`, test on rows whose bar starts at
 * or after it. Rows in between (features before the cut, label after it) are in neither:
 * they would let the test window's prices into training.
 */
export function walkForwardSplit(samples: readonly Sample[], testFromMs: number): WalkForwardSplit {
  return {
    train: samples.filter((sample) => sample.labelMs < testFromMs),
    test: samples.filter((sample) => sample.startMs >= testFromMs),
  };
}
