/**
 * The forest's hyper-parameters and their defaults, apart from `forest.ts` so that what only needs
 * the settings (the retrainer, the CLI) does not load `ml-random-forest`.
 */

/** Forest hyper-parameters. */
export interface ForestOptions {
  /** Trees (≥ 1). */
  readonly trees: number;
  /** Depth limit of each tree. */
  readonly maxDepth: number;
  /** Features per tree: a whole number, or a fraction in (0, 1) of the schema's. */
  readonly maxFeatures: number;
  /** A node with this many rows or fewer becomes a leaf. */
  readonly minNodeSamples: number;
  /**
   * A split must improve Gini impurity by more than this (ml-cart's `gainThreshold`, whose own
   * default 0.01 stops most trees at the root on market labels, where single splits gain less).
   */
  readonly minGain: number;
  /** Seed of row and feature sampling (32-bit integer). */
  readonly seed: number;
  /** At most this many training rows (a seeded random subset). */
  readonly maxTrainingRows: number;
}

/** Defaults: small enough to train in about a minute on one core. */
export const DEFAULT_FOREST_OPTIONS: ForestOptions = {
  trees: 25,
  maxDepth: 6,
  maxFeatures: 8,
  minNodeSamples: 20,
  minGain: 0,
  seed: 42,
  maxTrainingRows: 2_000,
};
