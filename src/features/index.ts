/** Streaming per-symbol features (indicators) for strategies, regimes and the ML service. */
export { createFeatureSet, type FeatureSet } from './feature-set.js';
