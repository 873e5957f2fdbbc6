/**
 * The model registry's entries and port ({@link ModelRegistry}: `MlModelStore` in
 * `src/persistence/ml-model-store.ts` implements it on the `ml_models` table), and loading a
 * registered model for inference: refused, with {@link FeatureSchemaMismatchError},
 * when it was trained on another feature definition than the running one (a feature added,
 * renamed, re-parameterised, or a new feature-set version), since its columns would no longer
 * mean what it learned.
 */
import {
  assertFeatureSchema,
  createOnnxPredictor,
  type ClassName,
  type FeatureSchema,
  type ModelKind,
  type OnnxPredictor,
  type TrainedModel,
} from './model.js';

/** A model's place in its life. */
export type ModelStatus = 'candidate' | 'live' | 'retired';

/** A registry entry without its ONNX bytes (for lists). */
export interface ModelSummary {
  readonly version: string;
  readonly kind: ModelKind;
  readonly status: ModelStatus;
  readonly createdAtMs: number;
  readonly promotedAtMs: number | null;
  readonly statusChangedAtMs: number;
  readonly featureSchemaHash: string;
  readonly classes: readonly ClassName[];
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly trainingWindow: { readonly fromMs: number; readonly toMs: number };
  readonly onnxBytes: number;
  readonly onnxSha256: string;
}

/** A registry entry with everything needed to load it. */
export interface StoredModel extends ModelSummary {
  readonly featureSchema: FeatureSchema;
  readonly onnx: Uint8Array;
}

/** What `src/ml` needs of the registry (the model source, retraining). */
export interface ModelRegistry {
  /** Entries, newest first; only `kind`'s when given. */
  list(kind?: ModelKind): Promise<ModelSummary[]>;
  /** The live model of `kind`, if any. */
  live(kind: ModelKind): Promise<StoredModel | undefined>;
  /** Stores a trained model as a candidate. */
  register(model: TrainedModel): Promise<ModelSummary>;
  /** Makes a candidate live (the previous live model of its kind is retired). */
  promote(version: string): Promise<{ readonly promoted: ModelSummary; readonly retired: string | null }>;
}

/** A loaded model: its registry entry and a predictor over its ONNX bytes. */
export interface LoadedModel {
  readonly model: StoredModel;
  readonly predictor: OnnxPredictor;
}

/** Loads `model` if it was trained on `running` (the features this process computes); else throws. */
export async function loadModel(model: StoredModel, running: FeatureSchema): Promise<LoadedModel> {
  assertFeatureSchema(model, running);
  const predictor = await createOnnxPredictor(model.onnx, { featureCount: running.names.length, lookback: running.lookback, classes: model.classes });
  return { model, predictor };
}
