import { beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/ml/dataset.js';
import { mlFeatureSchema } from '../../src/ml/features.js';
import { trainForest } from '../../src/ml/forest/forest.js';
import { forestToOnnx } from '../../src/ml/forest/onnx-export.js';
import { defineFeatureSchema, FeatureSchemaMismatchError, type TrainedModel } from '../../src/ml/model.js';
import { loadModel } from '../../src/ml/registry.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore, ModelRegistryError } from '../../src/persistence/ml-model-store.js';
import { DATABASE_KINDS, suiteDatabase } from '../support/databases.js';

const schema = mlFeatureSchema('5m');
const classes = ['down', 'flat', 'up'] as const;

/** Rows whose class is fixed by the sign of feature 0 (a forest learns it at once). */
function samples(count: number): Sample[] {
  return Array.from({ length: count }, (_, i) => {
    const x = new Float32Array(schema.names.length).map((_, j) => Math.fround(Math.sin(i * 7.1 + j * 1.3)));
    return { symbol: 'X', startMs: i, labelMs: i + 1, x, y: x[0]! < -0.3 ? 0 : x[0]! > 0.3 ? 2 : 1 };
  });
}

let onnx: Uint8Array;
beforeAll(() => {
  onnx = forestToOnnx(trainForest(samples(120), 3, { trees: 3, maxDepth: 3, maxFeatures: 0.5, minNodeSamples: 5, minGain: 0, seed: 1, maxTrainingRows: 120 }));
});

function model(version: string, overrides: Partial<TrainedModel> = {}): TrainedModel {
  return {
    kind: 'random-forest',
    version,
    featureSchemaHash: schema.hash,
    featureSchema: schema,
    classes: [...classes],
    metrics: { samples: 10, accuracy: 0.5, brier: 0.6, perClass: {}, labels: { horizon: 6 } },
    trainingWindow: { fromMs: Date.UTC(2026, 4, 20), toMs: Date.UTC(2026, 5, 11) },
    onnx,
    ...overrides,
  };
}

describe.each(DATABASE_KINDS)('model registry on %s', (kind) => {
  const db = suiteDatabase(kind);
  let store: MlModelStore;
  beforeAll(async () => {
    await migrate(db());
    store = new MlModelStore(db());
  });

  it('stores a model with its bytes, schema hash, metrics and window; lists newest first without bytes', async () => {
    const saved = await store.register(model('rf-a'));
    expect(saved).toMatchObject({
      version: 'rf-a',
      kind: 'random-forest',
      status: 'candidate',
      promotedAtMs: null,
      featureSchemaHash: schema.hash,
      onnxBytes: onnx.length,
    });
    expect(saved.trainingWindow).toEqual({ fromMs: Date.UTC(2026, 4, 20), toMs: Date.UTC(2026, 5, 11) });
    const got = await store.get('rf-a');
    expect(Buffer.from(got.onnx).equals(Buffer.from(onnx))).toBe(true);
    expect(got.featureSchema).toEqual(schema);
    expect(got.metrics).toEqual(model('rf-a').metrics);
    await expect(store.register(model('rf-a'))).rejects.toThrow(ModelRegistryError);
    await store.register(model('rf-b'));
    await store.register(model('rf-c'));
    expect((await store.list()).map((m) => m.version)).toEqual(['rf-c', 'rf-b', 'rf-a']);
    expect(await store.list('lstm')).toEqual([]);
    await expect(store.get('nope')).rejects.toThrow(/no model nope/);
  });

  it('promotes one live model per kind and rolls back step by step to the ones live before', async () => {
    expect(await store.live('random-forest')).toBeUndefined();
    await expect(store.rollback('random-forest')).rejects.toThrow(/no live random-forest model/);
    expect((await store.promote('rf-a')).retired).toBeNull();
    await expect(store.rollback('random-forest')).rejects.toThrow(/no earlier/);
    expect((await store.promote('rf-b')).retired).toBe('rf-a');
    expect((await store.promote('rf-c')).retired).toBe('rf-b');
    await expect(store.promote('rf-c')).rejects.toThrow(/already live/);
    const status = async (): Promise<Record<string, string>> => Object.fromEntries((await store.list()).map((m) => [m.version, m.status]));
    expect(await status()).toEqual({ 'rf-a': 'retired', 'rf-b': 'retired', 'rf-c': 'live' });
    expect((await store.live('random-forest'))?.version).toBe('rf-c');
    expect(await store.rollback('random-forest')).toMatchObject({ restored: { version: 'rf-b', status: 'live' }, retired: 'rf-c' });
    expect(await store.rollback('random-forest')).toMatchObject({ restored: { version: 'rf-a' }, retired: 'rf-b' });
    expect(await status()).toEqual({ 'rf-a': 'live', 'rf-b': 'retired', 'rf-c': 'retired' });
    await expect(store.rollback('random-forest')).rejects.toThrow(/no earlier/);
    // at most one live model per kind, whatever the code does
    await expect(db().query(`UPDATE ml_models SET status = 'live', promoted_at = now() WHERE version = 'rf-b'`)).rejects.toThrow();
  });

  it('loads a model trained on the running features, and refuses one trained on others with a clear error', async () => {
    const { predictor } = await loadModel(await store.get('rf-a'), schema);
    const rows = samples(5).map((s) => s.x);
    const probabilities = await predictor.predict(rows);
    expect(probabilities).toHaveLength(5);
    for (const p of probabilities) expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    await predictor.close();

    const { hash: _hash, ...fields } = schema;
    const older = defineFeatureSchema({ ...fields, names: fields.names.slice(1) });
    await store.register(model('rf-old', { featureSchemaHash: older.hash, featureSchema: older }));
    const stale = await store.get('rf-old');
    await expect(loadModel(stale, schema)).rejects.toThrow(FeatureSchemaMismatchError);
    await expect(loadModel(stale, schema)).rejects.toThrow(
      `model rf-old was trained on feature schema ${older.hash.slice(0, 12)}, but the running feature definition is ${schema.hash.slice(0, 12)}: retrain it on the current features (refusing to load)`,
    );
    // the other way round too: the running definition changed since the model was trained
    await expect(loadModel(await store.get('rf-a'), mlFeatureSchema('1d'))).rejects.toThrow(FeatureSchemaMismatchError);
  });

  it('refuses bytes that do not match their checksum', async () => {
    await store.register(model('rf-corrupt'));
    await db().query(`UPDATE ml_models SET onnx = '\\x00'::bytea WHERE version = 'rf-corrupt'`);
    await expect(store.get('rf-corrupt')).rejects.toThrow(/sha256/);
  });
});
