/**
 * A model's prediction for one symbol at one bar close: pure data, made by the ML actor
 * (`src/actors/ml`) and handed to the strategies that subscribed to predictions (the
 * `onPrediction` hook) and to the event bus (`PredictionMade`).
 */
import type { BarInterval } from './market.js';

/** A class a direction model predicts (see `src/ml/labels.ts`). */
export type PredictionClass = 'down' | 'flat' | 'up';

/** One prediction: which model, which bar, the class probabilities. JSON-safe. */
export interface Prediction {
  /** The registry version of the model that made it (e.g. `rf-20261207T020858Z-645d7bf2`). */
  readonly modelVersion: string;
  /** `random-forest` or `lstm`. */
  readonly modelKind: string;
  readonly symbol: string;
  /** Interval of the bars the model reads. */
  readonly interval: BarInterval;
  /** Start of the closed bar whose features were the input. */
  readonly barStartMs: number;
  /** The model's label horizon: how many bars ahead the direction is about. */
  readonly horizonBars: number;
  /** Class names, in the order of `probabilities`. */
  readonly classes: readonly PredictionClass[];
  /** One probability per class (float32 from ONNX, as a number), summing to about 1. */
  readonly probabilities: readonly number[];
}

/** The probability of a class, 0 when the model does not predict it. */
export function classProbability(prediction: Prediction, name: PredictionClass): number {
  const index = prediction.classes.indexOf(name);
  return index < 0 ? 0 : (prediction.probabilities[index] ?? 0);
}
