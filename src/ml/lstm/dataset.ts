/**
 * The LSTM's input: fixed-length windows of feature rows with a class label each. Plain typed
 * arrays, so any feature definition can feed it (the ML service's feature set through a thin
 * adapter, or the stand-in of `stand-in-dataset.ts`).
 */

/** Re-exported: the trainer and the tests shuffle with it. */
export { seededRandom } from '../seeded-random.js';

/** Labelled sequences, one window of `timeSteps` rows × `features` columns per sample. */
export interface SequenceDataset {
  /** Bars per window (T). */
  readonly timeSteps: number;
  /** Columns per row (F). */
  readonly features: number;
  /** Samples, row-major [N, T, F]: sample n, step t, feature f is at `(n * T + t) * F + f`; oldest step first. */
  readonly sequences: Float32Array;
  /** Class of each sample, 0 ≤ label < classes. */
  readonly labels: Int32Array;
}

/** Thrown for a dataset whose shape or values the LSTM cannot take. */
export class SequenceDatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SequenceDatasetError';
  }
}

/** Number of samples in a dataset. */
export function sampleCount(dataset: SequenceDataset): number {
  return dataset.labels.length;
}

/**
 * Checks the shape (sequences hold labels × T × F values), that every value is finite and
 * every label in [0, classes). Throws {@link SequenceDatasetError} with the first problem.
 */
export function assertSequenceDataset(dataset: SequenceDataset, classes: number): void {
  const { timeSteps, features, sequences, labels } = dataset;
  if (!Number.isInteger(timeSteps) || timeSteps < 1) throw new SequenceDatasetError(`timeSteps must be a positive integer, got ${timeSteps}`);
  if (!Number.isInteger(features) || features < 1) throw new SequenceDatasetError(`features must be a positive integer, got ${features}`);
  if (labels.length === 0) throw new SequenceDatasetError('the dataset has no samples');
  const expected = labels.length * timeSteps * features;
  if (sequences.length !== expected) {
    throw new SequenceDatasetError(
      `sequences hold ${sequences.length} values; ${labels.length} samples × ${timeSteps} steps × ${features} features need ${expected}`,
    );
  }
  for (let i = 0; i < sequences.length; i += 1) {
    if (!Number.isFinite(sequences[i]!)) {
      const row = Math.floor(i / features);
      throw new SequenceDatasetError(`sample ${Math.floor(row / timeSteps)}, step ${row % timeSteps}, feature ${i % features} is not finite`);
    }
  }
  for (let n = 0; n < labels.length; n += 1) {
    const label = labels[n]!;
    if (label < 0 || label >= classes) throw new SequenceDatasetError(`sample ${n} has label ${label}; expected 0..${classes - 1}`);
  }
}

/** Samples `[from, to)` of a dataset (views, no copy). */
export function sliceDataset(dataset: SequenceDataset, from: number, to: number): SequenceDataset {
  const stride = dataset.timeSteps * dataset.features;
  return {
    timeSteps: dataset.timeSteps,
    features: dataset.features,
    sequences: dataset.sequences.subarray(from * stride, to * stride),
    labels: dataset.labels.subarray(from, to),
  };
}

/** The samples at `indices`, copied in that order. */
export function selectSamples(dataset: SequenceDataset, indices: ArrayLike<number>): SequenceDataset {
  const stride = dataset.timeSteps * dataset.features;
  const sequences = new Float32Array(indices.length * stride);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k += 1) {
    const n = indices[k]!;
    sequences.set(dataset.sequences.subarray(n * stride, (n + 1) * stride), k * stride);
    labels[k] = dataset.labels[n]!;
  }
  return { timeSteps: dataset.timeSteps, features: dataset.features, sequences, labels };
}

/** Count of each class among the labels. */
export function classCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let n = 0; n < labels.length; n += 1) counts[labels[n]!] = (counts[labels[n]!] ?? 0) + 1;
  return counts;
}

/**
 * Per-feature standardisation `(x − mean) / scale`, fitted on training rows only and carried
 * into the ONNX graph (`Sub`, `Div`), so the exported model takes raw feature rows.
 */
export interface Standardiser {
  /** Mean of each feature over the training rows (float32 values). */
  readonly mean: Float32Array;
  /** Standard deviation of each feature over the training rows; 1 where it is 0 (float32). */
  readonly scale: Float32Array;
}

/**
 * Fits a {@link Standardiser} on every row of every training window. Rows shared by
 * overlapping windows count once per window, which weights the middle of the period
 * slightly more; it is only a scaling.
 */
export function fitStandardiser(dataset: SequenceDataset): Standardiser {
  const { features, sequences } = dataset;
  const rows = sequences.length / features;
  const sum = new Float64Array(features);
  const sumSquares = new Float64Array(features);
  for (let r = 0; r < rows; r += 1) {
    for (let f = 0; f < features; f += 1) {
      const x = sequences[r * features + f]!;
      sum[f] = sum[f]! + x;
      sumSquares[f] = sumSquares[f]! + x * x;
    }
  }
  const mean = new Float32Array(features);
  const scale = new Float32Array(features);
  for (let f = 0; f < features; f += 1) {
    const m = sum[f]! / rows;
    const variance = Math.max(0, sumSquares[f]! / rows - m * m);
    const deviation = Math.sqrt(variance);
    mean[f] = m;
    scale[f] = deviation > 1e-12 ? deviation : 1;
  }
  return { mean, scale };
}

/**
 * Applies a standardiser with float32 arithmetic (a float32 subtraction, then a float32
 * division: each a double operation rounded once, which is exactly IEEE float32), the same
 * as the ONNX graph's `Sub` and `Div`.
 */
export function standardise(sequences: Float32Array, standardiser: Standardiser): Float32Array {
  const { mean, scale } = standardiser;
  const features = mean.length;
  const out = new Float32Array(sequences.length);
  for (let i = 0; i < sequences.length; i += 1) {
    const f = i % features;
    out[i] = Math.fround(Math.fround(sequences[i]! - mean[f]!) / scale[f]!);
  }
  return out;
}

/** A Fisher–Yates permutation of 0..n-1 drawn from `random`. */
export function permutation(n: number, random: () => number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i += 1) order[i] = i;
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}
