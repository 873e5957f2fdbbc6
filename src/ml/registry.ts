/**
 * Loading a registered model for inference: refused, with {@link FeatureSchemaMismatchError},
 * when it was trained on another feature definition than the running one (a feature added,
 * renamed, re-parameterised, or a new feature-set version), since its columns would no longer
 * mean what it learned.
 */
import type { StoredModel } from '../persistence/ml-model-store.js';
import { assertFeatureSchema, createOnnxPredictor, type FeatureSchema, type OnnxPredictor } from './model.js';

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
