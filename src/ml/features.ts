/**
 * The ML features: one definition for training and live inference. Both feed closed bars,
 * one at a time, into a {@link FeatureEngine} (the streaming feature set of
 * `src/features/feature-set.ts`), so a live row is the training row by construction; the
 * parity test (`test/ml/features.test.ts`) replays real data as ticks through the market-data
 * pipeline and checks it bit for bit.
 *
 * A model's input row is the schema's features in order, as float32 (ONNX runs in float32;
 * the forest is trained on the same rounded values, so trainer and ONNX see the same
 * numbers), with a missing value (not warmed up, or undefined: a zero range, no previous
 * session) as {@link MISSING_VALUE}. No depth: the bar input carries none, so the
 * microstructure features of the issue (spread, imbalance, order flow) are not in this schema.
 */
import { createFeatureSet, FEATURE_SET_PARAMETERS, FEATURE_SET_VERSION } from '../features/feature-set.js';
import type { Bar, BarInterval } from '../model/market.js';
import { defineFeatureSchema, type FeatureSchema } from './model.js';

/**
 * Features of the feature set left out of the model: level-dependent values that differ by
 * orders of magnitude between symbols and drift over time (a tree would learn the symbol,
 * not the pattern). The scale-free versions stay (volume z-score, OBV slope…).
 */
export const EXCLUDED_FEATURES: readonly string[] = ['obv', 'log_volume'];

/** Bars a symbol needs before its rows are used (the longest window, SMA 100, plus one). */
export const WARMUP_BARS = 101;

/** Stands for a missing feature in a model row (trees send it below every real value). */
export const MISSING_VALUE = -1e30;

/** Bumped when the row encoding (selection, missing value, rounding) changes. */
const ROW_ENCODING_VERSION = 1;

/** Every feature name of the feature set, in its order. */
export function featureSetNames(): readonly string[] {
  return createFeatureSet().names;
}

/** The running feature definition for `interval` (`lookback` 1 for row models). */
export function mlFeatureSchema(interval: BarInterval, lookback = 1): FeatureSchema {
  const names = featureSetNames().filter((name) => !EXCLUDED_FEATURES.includes(name));
  return defineFeatureSchema({
    version: FEATURE_SET_VERSION * 1000 + ROW_ENCODING_VERSION,
    names,
    lookback,
    interval,
    parameters: { ...FEATURE_SET_PARAMETERS, warmupBars: WARMUP_BARS, missingValue: MISSING_VALUE, rowType: 'float32' },
  });
}

/** One closed bar's features. */
export interface FeatureRow {
  readonly symbol: string;
  readonly startMs: number;
  /** Bars fed so far, this one included. */
  readonly barIndex: number;
  /** Every feature of the feature set by name, as doubles (null: missing). */
  readonly values: Readonly<Record<string, number | null>>;
  /** True once {@link WARMUP_BARS} bars were fed: rows before are not used. */
  readonly ready: boolean;
}

/** One symbol's features, bar by bar: what the ML actor holds per symbol, and what training replays. */
export class FeatureEngine {
  private readonly features = createFeatureSet();
  private count = 0;
  private lastStartMs = -Infinity;

  constructor(readonly symbol: string) {}

  /** Feeds the next closed bar (in time order); returns its row. */
  update(bar: Bar): FeatureRow {
    if (bar.symbol !== this.symbol) throw new Error(`feature engine of ${this.symbol} was fed a bar of ${bar.symbol}`);
    if (!(bar.startMs > this.lastStartMs)) throw new Error(`${this.symbol}: bars must be fed in time order (${bar.startMs} after ${this.lastStartMs})`);
    this.lastStartMs = bar.startMs;
    this.features.update(bar);
    this.count += 1;
    return { symbol: bar.symbol, startMs: bar.startMs, barIndex: this.count, values: this.features.values(), ready: this.count >= WARMUP_BARS };
  }
}

/** The features of a series of bars of one symbol (training): an engine fed bar by bar. */
export function featureRows(bars: readonly Bar[]): FeatureRow[] {
  const first = bars[0];
  if (first === undefined) return [];
  const engine = new FeatureEngine(first.symbol);
  return bars.map((bar) => engine.update(bar));
}

/** A row's model input: the schema's features in order, float32, missing as {@link MISSING_VALUE}. */
export function modelInput(values: Readonly<Record<string, number | null>>, schema: FeatureSchema): Float32Array {
  const row = new Float32Array(schema.names.length);
  schema.names.forEach((name, i) => {
    const value = values[name];
    if (value === undefined) throw new Error(`feature "${name}" of the schema is not computed by the running feature set`);
    row[i] = value === null || !Number.isFinite(value) ? MISSING_VALUE : value;
  });
  return row;
}
