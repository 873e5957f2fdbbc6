/**
 * The Random Forest: trained with `ml-random-forest` (CART trees of `ml-cart`, Gini, bagging
 * over rows and a random subset of features per tree), deterministic for a seed.
 *
 * Probabilities are the trees' votes: P(class) = trees voting for it / trees. That is what
 * the ONNX export computes (`onnx-export.ts`). (`RandomForestClassifier.predictProbability`
 * is not used: its reduce starts from the first tree's label instead of 0, so it is off by
 * one tree's vote.)
 *
 * Cost: ml-cart's split search re-splits the node's rows for every candidate threshold
 * (quadratic in the rows of a node), so training time grows with rows² × features per tree:
 * measured here about 0.5 s per tree for 500 rows and 2.8 s for 2,000 (8 features per tree,
 * depth 6). {@link ForestOptions.maxTrainingRows} caps the rows (a seeded random subset, kept
 * in time order).
 */
import { RandomForestClassifier } from 'ml-random-forest';
import type { Sample } from '../dataset.js';
import { seededRandom } from '../seeded-random.js';
import type { ForestOptions } from './forest-options.js';

/** A trained forest and what went into it. */
export interface TrainedForest {
  readonly forest: RandomForestClassifier;
  readonly classCount: number;
  readonly featureCount: number;
  readonly options: ForestOptions;
  /** Rows the forest was trained on (after the cap). */
  readonly rows: number;
  readonly trainMs: number;
}

/** At most `limit` of `samples`, chosen at random with `seed`, in their original order. */
export function subsample<T>(samples: readonly T[], limit: number, seed: number): T[] {
  if (samples.length <= limit) return [...samples];
  const random = seededRandom(seed);
  const indexes = samples.map((_, i) => i);
  for (let i = indexes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
  }
  return indexes
    .slice(0, limit)
    .sort((a, b) => a - b)
    .map((i) => samples[i]!);
}

/** Checks forest options; throws a RangeError naming the bad one. */
export function checkForestOptions(options: ForestOptions, featureCount: number): void {
  const whole = (value: number, min: number): boolean => Number.isSafeInteger(value) && value >= min;
  if (!whole(options.trees, 1)) throw new RangeError(`trees must be a whole number ≥ 1, got ${options.trees}`);
  if (!whole(options.maxDepth, 1)) throw new RangeError(`max depth must be a whole number ≥ 1, got ${options.maxDepth}`);
  if (!whole(options.minNodeSamples, 1)) throw new RangeError(`min node samples must be a whole number ≥ 1, got ${options.minNodeSamples}`);
  if (!(options.minGain >= 0 && options.minGain < 1)) throw new RangeError(`min gain must be in [0, 1), got ${options.minGain}`);
  if (!whole(options.maxTrainingRows, 10)) throw new RangeError(`max training rows must be a whole number ≥ 10, got ${options.maxTrainingRows}`);
  if (!Number.isSafeInteger(options.seed) || Math.abs(options.seed) >= 2 ** 31) throw new RangeError(`seed must be a 32-bit integer, got ${options.seed}`);
  const f = options.maxFeatures;
  if (!((f > 0 && f < 1) || (Number.isSafeInteger(f) && f >= 1 && f <= featureCount))) {
    throw new RangeError(`max features must be a fraction in (0, 1) or a whole number from 1 to ${featureCount}, got ${f}`);
  }
}

/** Trains a forest on `samples` (labels 0 … classCount − 1). Synchronous: run it off the trading path. */
export function trainForest(samples: readonly Sample[], classCount: number, options: ForestOptions): TrainedForest {
  const featureCount = samples[0]?.x.length ?? 0;
  if (featureCount === 0) throw new RangeError('no training samples');
  checkForestOptions(options, featureCount);
  const rows = subsample(samples, options.maxTrainingRows, options.seed);
  const present = new Set(rows.map((sample) => sample.y));
  if (present.size < 2) throw new RangeError(`the training rows hold ${present.size} class; need at least 2 (widen the window or lower the threshold)`);
  const started = performance.now();
  const forest = new RandomForestClassifier({
    nEstimators: options.trees,
    maxFeatures: options.maxFeatures,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
    seed: options.seed,
    treeOptions: { maxDepth: options.maxDepth, minNumSamples: options.minNodeSamples, gainThreshold: options.minGain },
  });
  forest.train(
    rows.map((sample) => Array.from(sample.x)),
    rows.map((sample) => sample.y),
  );
  return { forest, classCount, featureCount, options, rows: rows.length, trainMs: performance.now() - started };
}

/**
 * The forest's class probabilities: votes per class / trees, from `predictionValues` (each
 * tree's predicted class). Doubles; the ONNX model gives the same ratios in float32.
 */
export function forestProbabilities(trained: TrainedForest, rows: readonly ArrayLike<number>[]): number[][] {
  if (rows.length === 0) return [];
  const votes = trained.forest.predictionValues(rows.map((row) => Array.from(row)));
  const trees = trained.options.trees;
  return rows.map((_, i) => {
    const counts = new Array<number>(trained.classCount).fill(0);
    for (const vote of votes.getRow(i)) counts[vote] = (counts[vote] ?? 0) + 1;
    return counts.map((count) => count / trees);
  });
}
