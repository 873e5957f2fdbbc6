/**
 * Train → export → check → evaluate for the LSTM on the ML features (the retraining's child
 * process, like `src/ml/forest/train-model.ts` for the forest): windows of `timeSteps` feature
 * rows per symbol (the window the ML actor holds: the last T rows, the newest one past the
 * warm-up), direction labels, a walk-forward split, the network trained with tfjs (CPU), its
 * ONNX export, the ONNX model's agreement with tfjs on the held-out windows, and the
 * out-of-sample metrics of the ONNX model (the one that will run).
 */
import type { Bar, BarInterval } from '../../model/market.js';
import { walkForwardSplit, type Sample } from '../dataset.js';
import { evaluateClassifier, majorityClass, type EvaluationMetrics } from '../evaluate.js';
import { featureRows, mlFeatureSchema, modelInput } from '../features.js';
import { directionLabels, labelClasses, type LabelOptions } from '../labels.js';
import { createOnnxPredictor, newModelVersion, type ClassName, type FeatureSchema, type TrainedModel } from '../model.js';
import { permutation, seededRandom, type SequenceDataset } from './dataset.js';
import { exportLstmToOnnx } from './onnx-export.js';
import { disposeLstm, predictWithTfjs, trainLstm } from './trainer.js';
import type { LstmConfig, LstmTrainingOptions } from './training-options.js';

/** Above this, the ONNX export does not reproduce the network (float32 rounding is ~1e-6): refused. */
export const LSTM_ONNX_TOLERANCE = 1e-4;

export interface TrainLstmModelRequest {
  readonly series: ReadonlyMap<string, readonly Bar[]>;
  readonly interval: BarInterval;
  readonly labels: LabelOptions;
  readonly lstm: LstmTrainingOptions;
  /** First bar start of the held-out window; earlier labels train (purged at the cut). */
  readonly testFromMs: number;
  /** Names the version (default: now). */
  readonly nowMs?: number;
  readonly onProgress?: (line: string) => void;
}

export interface TrainLstmModelResult {
  readonly model: TrainedModel;
  readonly evaluation: EvaluationMetrics;
  readonly trainSamples: number;
  readonly testSamples: number;
  /** Largest |ONNX − tfjs| probability on the held-out windows. */
  readonly onnxMaxDifference: number;
}

/**
 * Labelled windows of every symbol, sorted by (startMs, symbol): `x` is `schema.lookback` model
 * rows, oldest first, ending at the bar whose close the sample describes; a window ends on a
 * row past the warm-up (as the ML actor's), and has a label.
 */
export function sequenceSamples(series: ReadonlyMap<string, readonly Bar[]>, schema: FeatureSchema, labels: LabelOptions): Sample[] {
  const steps = schema.lookback;
  const width = schema.names.length;
  const samples: Sample[] = [];
  for (const [symbol, bars] of series) {
    const rows = featureRows(bars);
    const inputs = rows.map((row) => modelInput(row.values, schema));
    const y = directionLabels(bars, labels);
    rows.forEach((row, t) => {
      const label = y[t];
      if (!row.ready || t + 1 < steps || label === null || label === undefined) return;
      const x = new Float32Array(steps * width);
      for (let k = 0; k < steps; k += 1) x.set(inputs[t - steps + 1 + k]!, k * width);
      samples.push({ symbol, startMs: row.startMs, labelMs: bars[t + labels.horizon]!.startMs, x, y: label });
    });
  }
  return samples.sort((a, b) => a.startMs - b.startMs || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** Samples as the trainer's typed arrays. */
function toSequenceDataset(samples: readonly Sample[], timeSteps: number, features: number): SequenceDataset {
  const sequences = new Float32Array(samples.length * timeSteps * features);
  samples.forEach((sample, i) => sequences.set(sample.x, i * timeSteps * features));
  return { timeSteps, features, sequences, labels: Int32Array.from(samples, (sample) => sample.y) };
}

/** Scores an exported LSTM (or any `lookback`-row model) on samples: its probabilities. */
export async function onnxProbabilities(
  onnx: Uint8Array,
  schema: FeatureSchema,
  classes: readonly ClassName[],
  samples: readonly Sample[],
): Promise<Float32Array[]> {
  const predictor = await createOnnxPredictor(onnx, { featureCount: schema.names.length, lookback: schema.lookback, classes });
  try {
    return await predictor.predict(samples.map((sample) => sample.x));
  } finally {
    await predictor.close();
  }
}

/** Trains, exports, checks and evaluates an LSTM; throws a RangeError when the data cannot serve. */
export async function trainLstmModel(request: TrainLstmModelRequest): Promise<TrainLstmModelResult> {
  const progress = request.onProgress ?? (() => undefined);
  const options = request.lstm;
  const schema = mlFeatureSchema(request.interval, options.timeSteps);
  const classes = labelClasses(request.labels.mode);
  const features = schema.names.length;
  progress(`features: ${features} per bar × ${options.timeSteps} bars for ${request.series.size} symbol(s) (schema ${schema.hash.slice(0, 12)})`);
  const { train, test } = walkForwardSplit(sequenceSamples(request.series, schema, request.labels), request.testFromMs);
  if (train.length === 0) throw new RangeError('no labelled windows before the test window: give more data or move the test window later');
  if (test.length === 0) throw new RangeError('no labelled windows in the test window: give more data or move the test window earlier');
  let used: readonly Sample[] = train;
  if (train.length > options.maxTrainingRows) {
    const picked = Array.from(permutation(train.length, seededRandom(options.seed)).subarray(0, options.maxTrainingRows)).sort((a, b) => a - b);
    used = picked.map((i) => train[i]!);
  }
  progress(`windows: ${train.length} train (${used.length} used), ${test.length} test; training an LSTM of ${options.units} units, ${options.epochs} epochs…`);
  const config: Partial<LstmConfig> = {
    units: options.units,
    classes: classes.length,
    epochs: options.epochs,
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    seed: options.seed,
  };
  const trained = await trainLstm(toSequenceDataset(used, options.timeSteps, features), config, (epoch) =>
    progress(`epoch ${epoch.epoch}/${epoch.epochs}: loss ${epoch.loss.toFixed(4)}`),
  );
  let onnx: Uint8Array;
  let tfjsRows: Float32Array;
  try {
    onnx = exportLstmToOnnx(trained, { featureSchemaHash: schema.hash });
    tfjsRows = predictWithTfjs(trained, toSequenceDataset(test, options.timeSteps, features).sequences);
  } finally {
    disposeLstm(trained);
  }
  const probabilities = await onnxProbabilities(onnx, schema, classes, test);
  let onnxMaxDifference = 0;
  probabilities.forEach((row, i) =>
    row.forEach((p, c) => {
      onnxMaxDifference = Math.max(onnxMaxDifference, Math.abs(p - tfjsRows[i * classes.length + c]!));
    }),
  );
  progress(`ONNX: ${onnx.length} bytes; on ${test.length} held-out windows its probabilities are within ${onnxMaxDifference.toExponential(2)} of tfjs's`);
  if (!(onnxMaxDifference <= LSTM_ONNX_TOLERANCE))
    throw new Error(`the ONNX export does not reproduce the LSTM (difference ${onnxMaxDifference}): refusing to register it`);
  const evaluation = evaluateClassifier(
    classes,
    probabilities,
    test.map((sample) => sample.y),
    {
      trainingMajority: majorityClass(
        used.map((sample) => sample.y),
        classes.length,
      ),
    },
  );
  const window = (samples: readonly Sample[]): { fromMs: number; toMs: number } => ({
    fromMs: samples[0]!.startMs,
    toMs: samples[samples.length - 1]!.startMs,
  });
  const version = newModelVersion('lstm', request.nowMs ?? Date.now(), onnx);
  const model: TrainedModel = {
    kind: 'lstm',
    version,
    featureSchemaHash: schema.hash,
    featureSchema: schema,
    classes,
    metrics: {
      ...evaluation,
      testWindow: window(test),
      symbols: [...request.series.keys()],
      labels: request.labels,
      lstm: options,
      trainRows: used.length,
      lossByEpoch: trained.lossByEpoch,
      trainMs: Math.round(trained.trainingMs),
      onnxMaxDifference,
    },
    trainingWindow: window(train),
    onnx,
  };
  return { model, evaluation, trainSamples: train.length, testSamples: test.length, onnxMaxDifference };
}
