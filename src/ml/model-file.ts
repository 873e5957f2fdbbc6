/**
 * A registered model as one self-contained JSON file (`troupe ml export`), so a model can be
 * backtested (`npm run backtest -- --model file.json`) or kept outside the database: the registry
 * entry (version, kind, feature schema, classes, metrics with the label options, training window)
 * and the ONNX bytes in base64 with their sha256. Decoded with a TypeBox schema; the bytes are
 * checked against their hash.
 */
import { Type } from 'typebox';
import { Check } from 'typebox/value';
import type { StoredModel } from './registry.js';
import { ClassNamesJson, FeatureSchemaJson, ModelKindJson, ModelMetricsJson, onnxSha256 } from './stored-model-json.js';

/** The file's format tag and version. */
export const MODEL_FILE_FORMAT = 'troupe-ml-model';
export const MODEL_FILE_VERSION = 1;

const ModelFileJson = Type.Object({
  format: Type.Literal(MODEL_FILE_FORMAT),
  formatVersion: Type.Literal(MODEL_FILE_VERSION),
  version: Type.String({ minLength: 1 }),
  kind: ModelKindJson,
  featureSchema: FeatureSchemaJson,
  classes: ClassNamesJson,
  metrics: ModelMetricsJson,
  trainingWindow: Type.Object({ fromMs: Type.Number(), toMs: Type.Number() }),
  createdAtMs: Type.Number(),
  onnxSha256: Type.String(),
  onnxBase64: Type.String(),
});

/** A model file that cannot be read: not one, malformed, or its bytes do not match their hash. */
export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** The file's text (keys in a fixed order, so the same model gives the same bytes). */
export function encodeModelFile(model: StoredModel): string {
  const file = {
    format: MODEL_FILE_FORMAT,
    formatVersion: MODEL_FILE_VERSION,
    version: model.version,
    kind: model.kind,
    featureSchema: model.featureSchema,
    classes: model.classes,
    metrics: model.metrics,
    trainingWindow: model.trainingWindow,
    createdAtMs: model.createdAtMs,
    onnxSha256: onnxSha256(model.onnx),
    onnxBase64: Buffer.from(model.onnx).toString('base64'),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Reads a model file's text as a registry entry (status `live`: it is the model to run). */
export function decodeModelFile(text: string, name = 'the model file'): StoredModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(`${name} is not JSON (${error instanceof Error ? error.message : String(error)}): write one with troupe ml export`);
  }
  if (!Check(ModelFileJson, json))
    throw new ModelFileError(`${name} is not a Troupe model file (format ${MODEL_FILE_FORMAT} ${MODEL_FILE_VERSION}): write one with troupe ml export`);
  const onnx = new Uint8Array(Buffer.from(json.onnxBase64, 'base64'));
  if (onnxSha256(onnx) !== json.onnxSha256) throw new ModelFileError(`${name}: the ONNX bytes do not match their sha256 (corrupt)`);
  return {
    version: json.version,
    kind: json.kind,
    status: 'live',
    createdAtMs: json.createdAtMs,
    promotedAtMs: null,
    statusChangedAtMs: json.createdAtMs,
    featureSchemaHash: json.featureSchema.hash,
    classes: json.classes,
    metrics: json.metrics,
    trainingWindow: json.trainingWindow,
    onnxBytes: onnx.length,
    onnxSha256: json.onnxSha256,
    featureSchema: json.featureSchema,
    onnx,
  };
}
