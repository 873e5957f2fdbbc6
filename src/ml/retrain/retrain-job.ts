/**
 * One retraining, the CPU-heavy part (run in a child process, `retrain-child.ts`): train a
 * Random Forest walk-forward on the stored bars, export and check it (`trainRandomForestModel`),
 * then score the live model on the very same held-out rows (shadow evaluation) and decide.
 *
 * The rule: the candidate replaces the live model only when it is better on the held-out rows:
 * a lower Brier score (a proper scoring rule: it rewards calibrated probabilities, not only the
 * top class) and an accuracy at least the live model's. With no live model, or one that cannot
 * be scored (trained on another feature schema), nothing is promoted automatically: a person
 * promotes the first model (`troupe ml promote`, the Models page).
 */
import type { Bar, BarInterval } from '../../model/market.js';
import { buildDataset, walkForwardSplit } from '../dataset.js';
import { evaluateClassifier, type EvaluationMetrics } from '../evaluate.js';
import { mlFeatureSchema } from '../features.js';
import type { ForestOptions } from '../forest/forest.js';
import { trainRandomForestModel } from '../forest/train-model.js';
import type { LabelOptions } from '../labels.js';
import { createOnnxPredictor, type ClassName, type TrainedModel } from '../model.js';

/** The live model, as the job needs it for the shadow evaluation. */
export interface LiveModelForShadow {
  readonly version: string;
  readonly featureSchemaHash: string;
  readonly lookback: number;
  readonly classes: readonly ClassName[];
  readonly onnx: Uint8Array;
}

/** What to train on. */
export interface RetrainJob {
  readonly series: ReadonlyMap<string, readonly Bar[]>;
  readonly interval: BarInterval;
  readonly labels: LabelOptions;
  readonly forest: ForestOptions;
  readonly testFromMs: number;
  readonly nowMs: number;
  readonly live: LiveModelForShadow | undefined;
}

/** The shadow evaluation's verdict. */
export interface ShadowDecision {
  readonly promote: boolean;
  readonly reason: string;
  /** The live model on the candidate's held-out rows (undefined: none, or not comparable). */
  readonly live: EvaluationMetrics | undefined;
}

export interface RetrainResult {
  readonly model: TrainedModel;
  readonly candidate: EvaluationMetrics;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly decision: ShadowDecision;
}

/** Better = lower Brier score and accuracy at least as high, on the same rows. */
export function isBetter(candidate: Pick<EvaluationMetrics, 'brier' | 'accuracy'>, live: Pick<EvaluationMetrics, 'brier' | 'accuracy'>): boolean {
  return candidate.brier < live.brier && candidate.accuracy >= live.accuracy;
}

export async function runRetrainJob(job: RetrainJob, progress: (phase: string, fraction: number, message: string) => void): Promise<RetrainResult> {
  progress('training', 0.1, `training on ${job.series.size} symbol(s) of ${job.interval} bars`);
  const trained = await trainRandomForestModel({
    series: job.series,
    interval: job.interval,
    labels: job.labels,
    forest: job.forest,
    testFromMs: job.testFromMs,
    nowMs: job.nowMs,
    onProgress: (line) => progress('training', 0.5, line),
  });
  progress(
    'shadow',
    0.8,
    `candidate ${trained.model.version}: accuracy ${(trained.evaluation.accuracy * 100).toFixed(1)}%, Brier ${trained.evaluation.brier.toFixed(4)} on ${trained.testSamples} held-out rows`,
  );
  const schema = mlFeatureSchema(job.interval);
  let decision: ShadowDecision;
  const live = job.live;
  if (live === undefined) decision = { promote: false, reason: 'no live model to compare with: promote the first model by hand', live: undefined };
  else if (live.featureSchemaHash !== schema.hash || live.lookback !== 1 || live.classes.join() !== trained.model.classes.join()) {
    decision = { promote: false, reason: `the live model ${live.version} reads other features or classes: not comparable, kept`, live: undefined };
  } else {
    const dataset = buildDataset(job.series, schema, job.labels);
    const { test } = walkForwardSplit(dataset.samples, job.testFromMs);
    const predictor = await createOnnxPredictor(live.onnx, { featureCount: schema.names.length, lookback: 1, classes: live.classes });
    let probabilities: Float32Array[];
    try {
      probabilities = await predictor.predict(test.map((sample) => sample.x));
    } finally {
      await predictor.close();
    }
    const liveMetrics = evaluateClassifier(
      live.classes,
      probabilities,
      test.map((sample) => sample.y),
    );
    const better = isBetter(trained.evaluation, liveMetrics);
    const figures = `Brier ${trained.evaluation.brier.toFixed(4)} vs ${liveMetrics.brier.toFixed(4)}, accuracy ${(trained.evaluation.accuracy * 100).toFixed(1)}% vs ${(liveMetrics.accuracy * 100).toFixed(1)}%`;
    decision = {
      promote: better,
      reason: better
        ? `better than ${live.version} on the held-out rows (${figures})`
        : `not better than ${live.version} on the held-out rows (${figures}): kept as a candidate`,
      live: liveMetrics,
    };
  }
  progress('shadow', 0.95, decision.reason);
  return { model: trained.model, candidate: trained.evaluation, trainSamples: trained.trainSamples, testSamples: trained.testSamples, decision };
}
