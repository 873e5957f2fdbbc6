/**
 * A registry entry's stored parts as TypeBox schemas, and the hash of its ONNX bytes: shared by
 * the decoders of its two stored forms, the `ml_models` row (src/persistence/ml-model-store.ts)
 * and the model file (model-file.ts). No onnxruntime here, so reading a model's JSON loads none.
 */
import { createHash } from 'node:crypto';
import { Type } from 'typebox';

/** `ModelKind` (model.ts). */
export const ModelKindJson = Type.Union([Type.Literal('random-forest'), Type.Literal('lstm')]);
/** The `probabilities` columns' `ClassName`s, in order. */
export const ClassNamesJson = Type.Array(Type.Union([Type.Literal('down'), Type.Literal('flat'), Type.Literal('up')]));
/** A model's metrics as stored: any JSON object (its figures are shown, not computed with). */
export const ModelMetricsJson = Type.Record(Type.String(), Type.Unknown());
/** `FeatureSchema` (model.ts). */
export const FeatureSchemaJson = Type.Object({
  version: Type.Number(),
  names: Type.Array(Type.String()),
  lookback: Type.Integer({ minimum: 1 }),
  interval: Type.String(),
  parameters: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  hash: Type.String(),
});

/** sha256 (hex) of a model's ONNX bytes: stored beside them (`onnxSha256`) and checked when they are read back. */
export function onnxSha256(onnx: Uint8Array): string {
  return createHash('sha256').update(onnx).digest('hex');
}
