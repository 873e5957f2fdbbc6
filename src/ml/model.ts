/**
 * The ML service's shared contract: what every model kind (the Random Forest in
 * `src/ml/forest`, the LSTM in `src/ml/lstm`) trains against, stores and is loaded by.
 *
 * - A {@link FeatureSchema} names the inputs: the feature names in column order, how many
 *   bars a sample spans (`lookback`: 1 for a row model, the sequence length for the LSTM),
 *   the bar interval, and a stable hash of all of it (names, parameters, version). A model
 *   records the hash it was trained on; loading it against another schema is refused.
 * - A {@link TrainedModel} is the descriptor a trainer hands to the registry: kind, version,
 *   schema hash, metrics, training window and the ONNX bytes.
 * - An {@link OnnxPredictor} runs those bytes with onnxruntime-node and turns a batch of
 *   samples into class probabilities.
 *
 * ONNX graph contract (both kinds): one float input; `[N, F]` when `lookback` is 1, else
 * `[N, lookback, F]` (batch first: a graph that wants time first transposes inside); an
 * output named `probabilities`, float `[N, C]`, columns in the order of `classes`.
 */
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { onnxSha256 } from './stored-model-json.js';

/** The model kinds the registry knows. */
export type ModelKind = 'random-forest' | 'lstm';

/** The inputs a model was trained on. */
export interface FeatureSchema {
  /** Bumped when a feature's definition changes without its name changing. */
  readonly version: number;
  /** Feature names, in column order. */
  readonly names: readonly string[];
  /** Bars per sample: 1 for a row model (the forest), the sequence length for the LSTM. */
  readonly lookback: number;
  /** Bar interval the features are computed on ('5m', '1d', …). */
  readonly interval: string;
  /** Anything else that changes the numbers (windows, label horizon…); part of the hash. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** sha256 (hex) of the canonical JSON of everything above: {@link featureSchemaHash}. */
  readonly hash: string;
}

/** Class probabilities' column order for the two labelings (see `src/ml/labels.ts`). */
export type ClassName = 'down' | 'flat' | 'up';

/** Out-of-sample figures a trainer reports with a model. */
export interface ModelMetrics {
  readonly samples: number;
  readonly accuracy: number;
  /** Multi-class Brier score: mean over samples of Σ_c (p_c − y_c)². */
  readonly brier: number;
  readonly perClass: Readonly<Record<string, { readonly precision: number | null; readonly recall: number | null; readonly support: number }>>;
  /** Anything else (log loss, calibration bins, baseline accuracy…). */
  readonly [extra: string]: unknown;
}

/** What a trainer produces and the registry stores. */
export interface TrainedModel {
  readonly kind: ModelKind;
  /** Unique per model, chosen by the trainer (e.g. `rf-20260607T101500Z-1a2b3c4d`). */
  readonly version: string;
  readonly featureSchemaHash: string;
  /** The schema itself, so a reader can rebuild inputs and explain a refusal. */
  readonly featureSchema: FeatureSchema;
  /** Class names in the order of the `probabilities` columns. */
  readonly classes: readonly ClassName[];
  readonly metrics: ModelMetrics;
  /** Bars used for training: [fromMs, toMs] by bar start, inclusive. */
  readonly trainingWindow: { readonly fromMs: number; readonly toMs: number };
  readonly onnx: Uint8Array;
}

/** Canonical JSON: object keys sorted at every level, so a hash does not depend on key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The stable hash of a schema's defining fields (names, lookback, interval, parameters, version). */
export function featureSchemaHash(schema: Omit<FeatureSchema, 'hash'>): string {
  const { version, names, lookback, interval, parameters } = schema;
  return createHash('sha256').update(canonicalJson({ version, names, lookback, interval, parameters })).digest('hex');
}

/** A new model's version: `<prefix>-<UTC time, compact>-<first 8 hex of its ONNX sha256>`, e.g. `rf-20260607T101500Z-1a2b3c4d`. */
export function newModelVersion(prefix: string, nowMs: number, onnx: Uint8Array): string {
  const compactUtc = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${prefix}-${compactUtc}-${onnxSha256(onnx).slice(0, 8)}`;
}

/** Builds a schema with its hash. */
export function defineFeatureSchema(schema: Omit<FeatureSchema, 'hash'>): FeatureSchema {
  return { ...schema, names: [...schema.names], parameters: { ...schema.parameters }, hash: featureSchemaHash(schema) };
}

/** A model trained on other features than the running definition computes. */
export class FeatureSchemaMismatchError extends Error {
  constructor(
    readonly modelVersion: string,
    readonly modelHash: string,
    readonly runningHash: string,
  ) {
    super(
      `model ${modelVersion} was trained on feature schema ${modelHash.slice(0, 12)}, but the running feature definition is ${runningHash.slice(0, 12)}: retrain it on the current features (refusing to load)`,
    );
    this.name = 'FeatureSchemaMismatchError';
  }
}

/** Throws {@link FeatureSchemaMismatchError} unless the model was trained on `running`. */
export function assertFeatureSchema(model: { readonly version: string; readonly featureSchemaHash: string }, running: FeatureSchema): void {
  if (model.featureSchemaHash !== running.hash) throw new FeatureSchemaMismatchError(model.version, model.featureSchemaHash, running.hash);
}

/** Runs an ONNX classifier. */
export interface OnnxPredictor {
  readonly classes: readonly ClassName[];
  /** Floats per sample: features × lookback. */
  readonly sampleLength: number;
  /**
   * Class probabilities for a batch. Each sample is `sampleLength` floats (for the LSTM:
   * lookback rows of features, oldest first). Returns one `Float32Array` of
   * `classes.length` per sample.
   */
  predict(samples: readonly ArrayLike<number>[]): Promise<Float32Array[]>;
  /** Frees the native session. */
  close(): Promise<void>;
}

/** Options of {@link createOnnxPredictor}. */
export interface OnnxPredictorOptions {
  readonly featureCount: number;
  readonly lookback: number;
  readonly classes: readonly ClassName[];
  /** onnxruntime threads per session (default 1: inference shares the process with trading). */
  readonly intraOpThreads?: number;
}

/** Loads ONNX bytes into onnxruntime-node (CPU) and returns a batch predictor. */
export async function createOnnxPredictor(onnx: Uint8Array, options: OnnxPredictorOptions): Promise<OnnxPredictor> {
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  if (inputName === undefined || session.inputNames.length !== 1) throw new Error(`ONNX model must have one input, has ${session.inputNames.length}`);
  if (!session.outputNames.includes('probabilities'))
    throw new Error(`ONNX model has no output named "probabilities" (outputs: ${session.outputNames.join(', ')})`);
  const { featureCount, lookback, classes } = options;
  const sampleLength = featureCount * lookback;
  const classCount = classes.length;
  return {
    classes,
    sampleLength,
    async predict(samples) {
      const n = samples.length;
      if (n === 0) return [];
      const data = new Float32Array(n * sampleLength);
      samples.forEach((sample, i) => {
        if (sample.length !== sampleLength) throw new Error(`sample ${i} has ${sample.length} values, expected ${sampleLength}`);
        data.set(sample, i * sampleLength);
      });
      const dims = lookback === 1 ? [n, featureCount] : [n, lookback, featureCount];
      const input = new ort.Tensor('float32', data, dims);
      const result = await session.run({ [inputName]: input }, ['probabilities']);
      const output = result.probabilities;
      if (!output || !(output.data instanceof Float32Array)) throw new Error('ONNX output "probabilities" is not a float tensor');
      const flat = output.data;
      if (flat.length !== n * classCount) throw new Error(`ONNX output "probabilities" has ${flat.length} values, expected ${n}×${classCount}`);
      const rows: Float32Array[] = [];
      for (let i = 0; i < n; i++) rows.push(flat.slice(i * classCount, (i + 1) * classCount));
      return rows;
    },
    close: () => session.release(),
  };
}
