import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { mlConfig } from '../../src/config/ml.js';
import { buildDataset, walkForwardSplit } from '../../src/ml/dataset.js';
import { featureRows, mlFeatureSchema, modelInput } from '../../src/ml/features.js';
import { forestProbabilities, trainForest, type TrainedForest } from '../../src/ml/forest/forest.js';
import type { ForestOptions } from '../../src/ml/forest/forest-options.js';
import { forestToOnnx } from '../../src/ml/forest/onnx-export.js';
import { defineFeatureSchema, FeatureSchemaMismatchError, type TrainedModel } from '../../src/ml/model.js';
import { activateModel, registryModelSource } from '../../src/ml/model-source.js';
import { istTimeMs, type Bar, type Prediction } from '../../src/model/index.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { MlService } from '../../src/runtime/ml-service.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { readDataFolder, type DataFolder } from '../../src/streams/sources/csv-replay.js';
import { suiteDatabase } from '../support/databases.js';

const SYMBOLS = ['INFY', 'TCS'];
const TEST_FROM = istTimeMs('2026-06-12', 0, 0);
const LABELS = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;
const SMALL: ForestOptions = { trees: 5, maxDepth: 4, maxFeatures: 8, minNodeSamples: 10, minGain: 0, seed: 3, maxTrainingRows: 250 };
const schema = mlFeatureSchema('5m');

let data: DataFolder;
const forests = new Map<string, TrainedForest>();
let train: ReturnType<typeof walkForwardSplit>['train'] | undefined;

/** A small forest trained in the test on the shared data (before the held-out window), as the registry stores it. */
function trained(version: string, seed: number, overrides: Partial<TrainedModel> = {}): TrainedModel {
  train ??= walkForwardSplit(buildDataset(data.bars, schema, LABELS).samples, TEST_FROM).train;
  const forest = trainForest(train, 3, { ...SMALL, seed });
  forests.set(version, forest);
  return {
    kind: 'random-forest',
    version,
    featureSchemaHash: schema.hash,
    featureSchema: schema,
    classes: ['down', 'flat', 'up'],
    metrics: { samples: 0, accuracy: 0, brier: 0, perClass: {}, labels: LABELS },
    trainingWindow: { fromMs: train[0]!.startMs, toMs: train[train.length - 1]!.startMs },
    onnx: forestToOnnx(forest),
    ...overrides,
  };
}

/** Every bar start of the data, with the bars that start then. */
function steps(): Bar[][] {
  const byTime = new Map<number, Bar[]>();
  for (const bars of data.bars.values()) for (const bar of bars) byTime.set(bar.startMs, [...(byTime.get(bar.startMs) ?? []), bar]);
  return [...byTime.keys()].sort((a, b) => a - b).map((t) => byTime.get(t)!);
}

const db = suiteDatabase('pglite');
let store: MlModelStore;
let runtime: Runtime | undefined;
let service: MlService | undefined;

beforeAll(async () => {
  data = await readDataFolder('../shared/data/nse-5min', { symbols: SYMBOLS });
  await migrate(db());
  store = new MlModelStore(db());
});

afterEach(async () => {
  await service?.stop();
  await runtime?.stop();
  service = undefined;
  runtime = undefined;
  await db().query(`DELETE FROM ml_models`);
});

function makeRuntime(options: { readonly ml?: boolean } = {}): Runtime {
  const made = new Runtime({
    instruments: data.instruments,
    strategies: [{ strategyId: 'ml-1', kind: 'ml-signal', config: { symbols: SYMBOLS, entryProbability: 0, minEdge: 0 } }],
    portfolio: { portfolioId: 'p', initialCashPaise: 1_00_00_000_00 },
    clock: { nowMs: () => TEST_FROM },
    ...(options.ml === false ? {} : { ml: { source: registryModelSource(store) } }),
  });
  made.start();
  runtime = made;
  return made;
}

describe('the ML actor (onnxruntime-node, the registry on PGlite)', () => {
  it("loads the promoted model, predicts once per bar close across symbols, and its predictions equal the trainer's for the same bars", async () => {
    const model = trained('rf-actor-a', 3);
    await store.register(model);
    await store.promote(model.version);
    const rt = makeRuntime();
    await eventually(async () => expect((await rt.mlStatus())?.modelVersion).toBe(model.version), { timeoutMs: 10_000 });
    const predictions: Prediction[] = [];
    rt.bus.on('PredictionMade', (event) => predictions.push(event.prediction));
    const all = steps();
    for (const bars of all) {
      rt.offerBars(bars);
      await rt.whenIdle();
    }
    // the trainer's probabilities for the same bars: features from the start of each file, the forest's votes / trees
    const forest = forests.get(model.version)!;
    let expected = 0;
    for (const symbol of SYMBOLS) {
      const bars = data.bars.get(symbol)!;
      const rows = featureRows(bars).filter((row) => row.ready);
      const want = forestProbabilities(
        forest,
        rows.map((row) => modelInput(row.values, schema)),
      );
      const got = predictions.filter((p) => p.symbol === symbol);
      expect(got.map((p) => p.barStartMs)).toEqual(rows.map((row) => row.startMs));
      got.forEach((p, i) => {
        expect(p).toMatchObject({ modelVersion: model.version, modelKind: 'random-forest', interval: '5m', horizonBars: 6, classes: ['down', 'flat', 'up'] });
        p.probabilities.forEach((value, c) => expect(Object.is(value, Math.fround(want[i]![c]!))).toBe(true));
      });
      expected += rows.length;
    }
    expect(predictions).toHaveLength(expected);
    const status = (await rt.mlStatus())!;
    // one ONNX run per bar close: both symbols' bars in one run
    expect(status.stats.runs).toBe(all.filter((bars) => bars.length === 2).length - 100);
    expect(status.stats.largestRun).toBe(2);
    expect(status.stats.predictions).toBe(expected);
    expect(status).toMatchObject({ warmSymbols: 2, lastError: null });
    // the strategy received them (ml-signal with no thresholds acts on every one)
    expect((await rt.strategyStatus('ml-1')).stats.intents).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a model trained on another feature schema, with a clear error, and keeps running without one', async () => {
    const other = defineFeatureSchema({ ...schema, names: [...schema.names].reverse() });
    const model = trained('rf-other-schema', 4, { featureSchemaHash: other.hash, featureSchema: other });
    await store.register(model);
    await store.promote(model.version);
    await expect(activateModel(await store.get(model.version))).rejects.toThrow(FeatureSchemaMismatchError);
    const rt = makeRuntime();
    const status = await eventually(async () => {
      const s = (await rt.mlStatus())!;
      expect(s.lastError).not.toBeNull();
      return s;
    });
    expect(status.lastError).toMatch(
      /model rf-other-schema was trained on feature schema [0-9a-f]{12}, but the running feature definition is [0-9a-f]{12}.*refusing to load/,
    );
    expect(status).toMatchObject({ modelVersion: null, stats: { loadFailures: 1 } });
    const bars = steps().slice(0, 3);
    for (const step of bars) rt.offerBars(step);
    await rt.whenIdle();
    const after = (await rt.mlStatus())!;
    expect(after.stats).toMatchObject({ ignoredBars: 6, predictions: 0 });
  }, 30_000);

  it('picks up a promotion and a rollback made in the registry (another process, or the API)', async () => {
    const a = trained('rf-live-a', 5);
    const b = trained('rf-live-b', 6);
    await store.register(a);
    await store.register(b);
    const rt = makeRuntime({ ml: false });
    service = new MlService({
      config: { ...mlConfig({ TROUPE_ML_RETRAIN: 'off', TROUPE_ML_CHECK_SECONDS: '3600' }) },
      database: db(),
      runtime: rt,
      metrics: new Metrics({ defaultMetrics: false }),
      log: silentLogger(),
      symbols: SYMBOLS,
    });
    await service.start();
    expect(rt.ml).toBeUndefined(); // auto: nothing live, no actor
    await store.promote(a.version); // as `troupe ml promote` would, from another process
    await service.checkNow();
    await eventually(async () => expect((await rt.mlStatus())?.modelVersion).toBe(a.version), { timeoutMs: 10_000 });
    // warm the features, then switch: the same schema keeps them
    for (const step of steps().slice(0, 120)) rt.offerBars(step);
    await rt.whenIdle();
    await store.promote(b.version);
    await service.checkNow();
    await eventually(async () => expect((await rt.mlStatus())?.modelVersion).toBe(b.version), { timeoutMs: 10_000 });
    expect((await rt.mlStatus())!.warmSymbols).toBe(2);
    const predictions: Prediction[] = [];
    rt.bus.on('PredictionMade', (event) => predictions.push(event.prediction));
    rt.offerBars(steps()[120]!);
    await rt.whenIdle();
    expect(predictions.map((p) => p.modelVersion)).toEqual([b.version, b.version]);
    await service.rollback(); // the API's button: reloads at once
    await eventually(async () => expect((await rt.mlStatus())?.modelVersion).toBe(a.version), { timeoutMs: 10_000 });
    expect((await service.status()).actor).toMatchObject({ modelVersion: a.version, stats: { loads: 3 } });
  }, 60_000);
});
