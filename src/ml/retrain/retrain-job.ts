/**
 * One retraining, the CPU-heavy part (run in a child process, `retrain-child.ts`): train a
 * Random Forest (`trainRandomForestModel`) or an LSTM (`trainLstmModel`) walk-forward on the
 * stored bars, export and check it, then score the live model of the kind on the very same
 * held-out rows (shadow evaluation) and decide.
 *
 * The rule: the candidate replaces the live model only when it is better on the held-out rows:
 * a lower Brier score (a proper scoring rule: it rewards calibrated probabilities, not only the
 * top class) and an accuracy at least the live model's. With no live model, or one that cannot
 * be scored (trained on another feature schema), nothing is promoted automatically: a person
 * promotes the first model (`troupe ml promote`, the Models page).
 */
import type { Bar, BarInterval } from '../../model/market.js';
import { buildDataset, walkForwardSplit, type Sample } from '../dataset.js';
import { evaluateClassifier, type EvaluationMetrics } from '../evaluate.js';
import { mlFeatureSchema } from '../features.js';
import type { ForestOptions } from '../forest/forest-options.js';
import { trainRandomForestModel } from '../forest/train-model.js';
import type { LabelOptions } from '../labels.js';
import { onnxProbabilities, sequenceSamples, trainLstmModel } from '../lstm/train-model.js';
import type { LstmTrainingOptions } from '../lstm/training-options.js';
import type { ClassName, ModelKind, TrainedModel } from '../model.js';

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
  /** The kind to train (the live model of this kind is the one to beat). */
  readonly kind: ModelKind;
  readonly series: ReadonlyMap<string, readonly Bar[]>;
  readonly interval: BarInterval;
  readonly labels: LabelOptions;
  readonly forest: ForestOptions;
  readonly lstm: LstmTrainingOptions;
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

/** The candidate, trained by the job's kind. */
async function trainCandidate(
  job: RetrainJob,
  progress: (phase: string, fraction: number, message: string) => void,
): Promise<{ readonly model: TrainedModel; readonly evaluation: EvaluationMetrics; readonly trainSamples: number; readonly testSamples: number }> {
  const common = { series: job.series, interval: job.interval, labels: job.labels, testFromMs: job.testFromMs, nowMs: job.nowMs };
  if (job.kind === 'lstm') {
    let epochs = 0;
    return trainLstmModel({
      ...common,
      lstm: job.lstm,
      onProgress: (line) => {
        if (line.startsWith('epoch ')) epochs += 1;
        progress('training', 0.1 + (0.65 * epochs) / job.lstm.epochs, line);
      },
    });
  }
  return trainRandomForestModel({ ...common, forest: job.forest, onProgress: (line) => progress('training', 0.5, line) });
}

/** The held-out rows a model of `lookback` bars reads (rows for the forest, windows for the LSTM). */
function heldOut(job: RetrainJob, lookback: number): readonly Sample[] {
  const schema = mlFeatureSchema(job.interval, lookback);
  const samples = lookback === 1 ? buildDataset(job.series, schema, job.labels).samples : sequenceSamples(job.series, schema, job.labels);
  return walkForwardSplit(samples, job.testFromMs).test;
}

export async function runRetrainJob(job: RetrainJob, progress: (phase: string, fraction: number, message: string) => void): Promise<RetrainResult> {
  progress('training', 0.1, `training a ${job.kind} on ${job.series.size} symbol(s) of ${job.interval} bars`);
  const trained = await trainCandidate(job, progress);
  progress(
    'shadow',
    0.8,
    `candidate ${trained.model.version}: accuracy ${(trained.evaluation.accuracy * 100).toFixed(1)}%, Brier ${trained.evaluation.brier.toFixed(4)} on ${trained.testSamples} held-out rows`,
  );
  const schema = trained.model.featureSchema;
  let decision: ShadowDecision;
  const live = job.live;
  if (live === undefined) decision = { promote: false, reason: 'no live model to compare with: promote the first model by hand', live: undefined };
  else if (live.featureSchemaHash !== schema.hash || live.lookback !== schema.lookback || live.classes.join() !== trained.model.classes.join()) {
    decision = { promote: false, reason: `the live model ${live.version} reads other features or classes: not comparable, kept`, live: undefined };
  } else {
    const test = heldOut(job, schema.lookback);
    const probabilities = await onnxProbabilities(live.onnx, schema, live.classes, test);
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
