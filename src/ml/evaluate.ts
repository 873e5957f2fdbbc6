/**
 * Out-of-sample figures of a classifier: accuracy, precision and recall per class, the
 * multi-class Brier score, log loss, reliability bins (calibration of the top class's
 * probability) and two baselines (the training window's majority class; the test window's).
 */
import type { ClassName, ModelMetrics } from './model.js';

/** One reliability bin: rows whose top probability fell in [from, to). */
export interface ReliabilityBin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** Mean top probability of the rows in the bin (null when empty). */
  readonly meanConfidence: number | null;
  /** Share of those rows whose top class was right (null when empty). */
  readonly accuracy: number | null;
}

/** {@link ModelMetrics} with the evaluation's details. */
export interface EvaluationMetrics extends ModelMetrics {
  readonly logLoss: number;
  /** Expected calibration error: Σ bins count/n · |accuracy − confidence|. */
  readonly ece: number;
  readonly reliability: readonly ReliabilityBin[];
  /** Accuracy of always answering the training window's most frequent class. */
  readonly baselineAccuracy: number | null;
  /** Accuracy of always answering the test window's own most frequent class (hindsight). */
  readonly majorityAccuracy: number;
  /** rows × classes: confusion[actual][predicted]. */
  readonly confusion: readonly (readonly number[])[];
}

/** First index of the largest value (the predicted class; ties to the lower class, as the trainer). */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Metrics of `probabilities` (rows × classes) against `actual` (class indexes).
 * `trainingMajority`: the most frequent class of the training rows, for the baseline.
 */
export function evaluateClassifier(
  classes: readonly ClassName[],
  probabilities: readonly ArrayLike<number>[],
  actual: readonly number[],
  options: { readonly trainingMajority?: number; readonly bins?: number } = {},
): EvaluationMetrics {
  if (probabilities.length !== actual.length) throw new RangeError(`${probabilities.length} predictions for ${actual.length} labels`);
  const n = actual.length;
  const k = classes.length;
  const binCount = options.bins ?? 10;
  const confusion = classes.map(() => new Array<number>(k).fill(0));
  let brier = 0;
  let logLoss = 0;
  const bins = Array.from({ length: binCount }, () => ({ count: 0, confidence: 0, correct: 0 }));
  probabilities.forEach((p, i) => {
    const y = actual[i]!;
    const predicted = argMax(p);
    confusion[y]![predicted]! += 1;
    for (let c = 0; c < k; c++) brier += ((p[c] ?? 0) - (c === y ? 1 : 0)) ** 2;
    logLoss -= Math.log(Math.max(p[y] ?? 0, 1e-15));
    const top = p[predicted] ?? 0;
    const bin = bins[Math.min(binCount - 1, Math.floor(top * binCount))]!;
    bin.count += 1;
    bin.confidence += top;
    if (predicted === y) bin.correct += 1;
  });
  const correct = confusion.reduce((sum, row, c) => sum + row[c]!, 0);
  const support = confusion.map((row) => row.reduce((s, v) => s + v, 0));
  const predictedCount = classes.map((_, c) => confusion.reduce((s, row) => s + row[c]!, 0));
  const perClass: Record<string, { precision: number | null; recall: number | null; support: number }> = {};
  classes.forEach((name, c) => {
    perClass[name] = {
      precision: predictedCount[c]! > 0 ? confusion[c]![c]! / predictedCount[c]! : null,
      recall: support[c]! > 0 ? confusion[c]![c]! / support[c]! : null,
      support: support[c]!,
    };
  });
  const reliability = bins.map((bin, b) => ({
    from: b / binCount,
    to: (b + 1) / binCount,
    count: bin.count,
    meanConfidence: bin.count > 0 ? bin.confidence / bin.count : null,
    accuracy: bin.count > 0 ? bin.correct / bin.count : null,
  }));
  const ece =
    n === 0 ? 0 : reliability.reduce((sum, bin) => (bin.count === 0 ? sum : sum + (bin.count / n) * Math.abs(bin.accuracy! - bin.meanConfidence!)), 0);
  const majority = argMax(support);
  return {
    samples: n,
    accuracy: n === 0 ? 0 : correct / n,
    brier: n === 0 ? 0 : brier / n,
    perClass,
    logLoss: n === 0 ? 0 : logLoss / n,
    ece,
    reliability,
    baselineAccuracy: options.trainingMajority === undefined || n === 0 ? null : support[options.trainingMajority]! / n,
    majorityAccuracy: n === 0 ? 0 : support[majority]! / n,
    confusion,
  };
}

/** The most frequent class of labels (ties to the lower class). */
export function majorityClass(labels: readonly number[], classCount: number): number {
  const counts = new Array<number>(classCount).fill(0);
  for (const y of labels) counts[y] = (counts[y] ?? 0) + 1;
  return argMax(counts);
}
