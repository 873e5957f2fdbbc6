/**
 * Train → export → check → evaluate, for the CLI and the (later) retraining worker:
 * features and labels of every symbol, a walk-forward split, the forest on the training
 * window, its ONNX export, the ONNX model's agreement with the forest on the test rows, and
 * the out-of-sample metrics of the ONNX model (the one that will run).
 */
import type { Bar, BarInterval } from '../../model/market.js';
import { buildDataset, walkForwardSplit, type Sample } from '../dataset.js';
import { evaluateClassifier, majorityClass, type EvaluationMetrics } from '../evaluate.js';
import { mlFeatureSchema } from '../features.js';
import type { LabelOptions } from '../labels.js';
import { createOnnxPredictor, newModelVersion, type TrainedModel } from '../model.js';
import { forestProbabilities, trainForest } from './forest.js';
import type { ForestOptions } from './forest-options.js';
import { forestToOnnx } from './onnx-export.js';

/** What to train on and how. */
export interface TrainRandomForestRequest {
  readonly series: ReadonlyMap<string, readonly Bar[]>;
  readonly interval: BarInterval;
  readonly labels: LabelOptions;
  readonly forest: ForestOptions;
  /** First bar start of the held-out window; earlier labels train (purged at the cut). */
  readonly testFromMs: number;
  /** Names the version (default: now). */
  readonly nowMs?: number;
  /** Progress lines (the CLI prints them on stderr). */
  readonly onProgress?: (line: string) => void;
}

/** The result: a model for the registry and how it did. */
export interface TrainRandomForestResult {
  readonly model: TrainedModel;
  readonly evaluation: EvaluationMetrics;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly trainMs: number;
  /** Largest |ONNX − forest| probability on the test rows (the float32 rounding of votes / trees; the values are checked equal in float32). */
  readonly onnxMaxDifference: number;
}

/** Trains, exports and evaluates a Random Forest; throws a RangeError when the data cannot serve. */
export async function trainRandomForestModel(request: TrainRandomForestRequest): Promise<TrainRandomForestResult> {
  const progress = request.onProgress ?? (() => undefined);
  const schema = mlFeatureSchema(request.interval);
  progress(`features: ${schema.names.length} per bar for ${request.series.size} symbol(s) (schema ${schema.hash.slice(0, 12)})`);
  const dataset = buildDataset(request.series, schema, request.labels);
  const { train, test } = walkForwardSplit(dataset.samples, request.testFromMs);
  if (train.length === 0)
    throw new RangeError('no labelled rows before the test window (each symbol needs 101 bars of warm-up): move --test-from later or give more data');
  if (test.length === 0) throw new RangeError('no labelled rows in the test window: move --test-from earlier or give more data');
  const rows = Math.min(train.length, request.forest.maxTrainingRows);
  progress(
    `samples: ${train.length} train (${rows} used), ${test.length} test; training ${request.forest.trees} trees (depth ${request.forest.maxDepth}, ${request.forest.maxFeatures} features each)…`,
  );
  const trained = trainForest(train, dataset.classes.length, request.forest);
  progress(`trained in ${(trained.trainMs / 1000).toFixed(1)} s; exporting to ONNX`);
  const onnx = forestToOnnx(trained, { featureSchemaHash: schema.hash, classes: dataset.classes.join(','), kind: 'random-forest' });
  const predictor = await createOnnxPredictor(onnx, { featureCount: schema.names.length, lookback: 1, classes: dataset.classes });
  let onnxProbabilities: Float32Array[];
  try {
    onnxProbabilities = await predictor.predict(test.map((sample) => sample.x));
  } finally {
    await predictor.close();
  }
  const forestRows = forestProbabilities(
    trained,
    test.map((sample) => sample.x),
  );
  let onnxMaxDifference = 0;
  let onnxExact = true;
  forestRows.forEach((row, i) =>
    row.forEach((p, c) => {
      const q = onnxProbabilities[i]![c]!;
      onnxMaxDifference = Math.max(onnxMaxDifference, Math.abs(p - q));
      if (!Object.is(Math.fround(p), q)) onnxExact = false;
    }),
  );
  progress(
    `ONNX: ${onnx.length} bytes; on ${test.length} test rows its probabilities ${onnxExact ? "equal the forest's rounded to float32" : "DIFFER from the forest's"} (largest difference ${onnxMaxDifference.toExponential(2)})`,
  );
  if (!onnxExact) throw new Error('the ONNX export does not reproduce the forest (a bug): refusing to register it');
  const evaluation = evaluateClassifier(
    dataset.classes,
    onnxProbabilities,
    test.map((sample) => sample.y),
    {
      trainingMajority: majorityClass(
        train.map((sample) => sample.y),
        dataset.classes.length,
      ),
    },
  );
  const window = (samples: readonly Sample[]): { fromMs: number; toMs: number } => ({
    fromMs: samples[0]!.startMs,
    toMs: samples[samples.length - 1]!.startMs,
  });
  const nowMs = request.nowMs ?? Date.now();
  const version = newModelVersion('rf', nowMs, onnx);
  const model: TrainedModel = {
    kind: 'random-forest',
    version,
    featureSchemaHash: schema.hash,
    featureSchema: schema,
    classes: dataset.classes,
    metrics: {
      ...evaluation,
      testWindow: window(test),
      symbols: [...request.series.keys()],
      labels: request.labels,
      forest: request.forest,
      trainRows: trained.rows,
      trainMs: Math.round(trained.trainMs),
      onnxMaxDifference,
    },
    trainingWindow: window(train),
    onnx,
  };
  return { model, evaluation, trainSamples: train.length, testSamples: test.length, trainMs: trained.trainMs, onnxMaxDifference };
}
