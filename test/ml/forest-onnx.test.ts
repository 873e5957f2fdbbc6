import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, walkForwardSplit, type Dataset, type Sample } from '../../src/ml/dataset.js';
import { featureRows, mlFeatureSchema, type FeatureRow } from '../../src/ml/features.js';
import { forestProbabilities, subsample, trainForest } from '../../src/ml/forest/forest.js';
import type { ForestOptions } from '../../src/ml/forest/forest-options.js';
import { float32AtOrAbove, forestToOnnx } from '../../src/ml/forest/onnx-export.js';
import type { LabelOptions } from '../../src/ml/labels.js';
import { createOnnxPredictor } from '../../src/ml/model.js';
import { istTimeMs } from '../../src/model/index.js';
import { readDataFolder } from '../../src/streams/sources/csv-replay.js';

const SMALL: ForestOptions = { trees: 9, maxDepth: 5, maxFeatures: 8, minNodeSamples: 10, minGain: 0, seed: 7, maxTrainingRows: 300 };
const TEST_FROM = istTimeMs('2026-06-12', 0, 0);

let series: Awaited<ReturnType<typeof readDataFolder>>['bars'];
let features: Map<string, FeatureRow[]>;
beforeAll(async () => {
  series = (await readDataFolder('../shared/data/nse-5min', { symbols: ['INFY', 'TCS'] })).bars;
  features = new Map([...series].map(([symbol, bars]) => [symbol, featureRows(bars)]));
});

const datasets = new Map<LabelOptions['mode'], Dataset>();
function dataset(mode: LabelOptions['mode']): Dataset {
  const made = datasets.get(mode) ?? buildDataset(series, mlFeatureSchema('5m'), { horizon: 6, threshold: 0.001, mode, sameSession: true }, features);
  datasets.set(mode, made);
  return made;
}

/** Probabilities of the ONNX model through onnxruntime-node. */
async function onnxProbabilities(onnx: Uint8Array, data: Dataset, rows: readonly Sample[]): Promise<Float32Array[]> {
  const predictor = await createOnnxPredictor(onnx, { featureCount: data.schema.names.length, lookback: 1, classes: data.classes });
  try {
    return await predictor.predict(rows.map((row) => row.x));
  } finally {
    await predictor.close();
  }
}

describe('Random Forest → ONNX (TreeEnsembleClassifier) → onnxruntime-node', () => {
  it.each(['ternary', 'binary'] as const)("%s: the ONNX probabilities equal the forest's votes / trees on held-out rows, exactly in float32", async (mode) => {
    const data = dataset(mode);
    const { train, test } = walkForwardSplit(data.samples, TEST_FROM);
    expect(train.length).toBeGreaterThan(1_000);
    expect(test.length).toBeGreaterThan(500);
    expect(Math.max(...train.map((s) => s.labelMs))).toBeLessThan(TEST_FROM); // purged at the cut
    const trained = trainForest(train, data.classes.length, SMALL);
    const onnx = forestToOnnx(trained);
    const got = await onnxProbabilities(onnx, data, test);
    // the trainer's own figures: each tree's vote from ml-random-forest, counted here
    const votes = trained.forest.predictionValues(test.map((s) => Array.from(s.x)));
    let exact = 0;
    test.forEach((_, i) => {
      const counts = new Array<number>(data.classes.length).fill(0);
      for (const vote of votes.getRow(i)) counts[vote]! += 1;
      counts.forEach((count, c) => {
        // float32 can hold count/trees only rounded: ONNX divides in float32, which is fround of the exact ratio
        expect(Object.is(got[i]![c], Math.fround(count / SMALL.trees))).toBe(true);
        exact += 1;
      });
    });
    expect(exact).toBe(test.length * data.classes.length);
    // and the forest's majority vote is ONNX's top class wherever the vote has no tie
    const predicted = trained.forest.predict(test.map((s) => Array.from(s.x)));
    const reference = forestProbabilities(
      trained,
      test.map((s) => s.x),
    );
    let untied = 0;
    reference.forEach((p, i) => {
      const top = Math.max(...p);
      if (p.filter((v) => v === top).length > 1) return;
      untied += 1;
      expect(got[i]!.indexOf(Math.max(...got[i]!))).toBe(predicted[i]);
    });
    expect(untied).toBeGreaterThan(test.length / 2);
  });

  it('is deterministic for a seed: the same bytes twice, other bytes for another seed', () => {
    const data = dataset('ternary');
    const train = walkForwardSplit(data.samples, TEST_FROM).train;
    const small = { ...SMALL, trees: 3, maxTrainingRows: 150 };
    const a = forestToOnnx(trainForest(train, 3, small));
    const b = forestToOnnx(trainForest(train, 3, small));
    const c = forestToOnnx(trainForest(train, 3, { ...small, seed: 8 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('a split written as the smallest float32 ≥ the double threshold sends every float32 the same way', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }),
        fc.float({ noNaN: true, noDefaultInfinity: true }),
        (split, x) => {
          const t32 = float32AtOrAbove(split);
          expect(Math.fround(t32)).toBe(t32);
          expect(t32 >= split).toBe(true);
          expect(x < t32).toBe(x < split);
          // and the float32 just below (the value ONNX must not confuse with it) is below the split
          const below = new Float32Array([t32]);
          new Int32Array(below.buffer)[0]! += t32 > 0 ? -1 : t32 < 0 ? 1 : 0;
          if (below[0]! !== t32) expect(below[0]! < split).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
    // a midpoint of two neighbouring float32s: rounding to nearest would send the lower one right
    const lower = Math.fround(0.1);
    const upper = new Float32Array([lower]);
    new Int32Array(upper.buffer)[0]! += 1;
    const mid = (lower + upper[0]!) / 2;
    expect(lower < mid).toBe(true);
    expect(lower < float32AtOrAbove(mid)).toBe(true);
  });

  it('the row cap keeps a seeded subset in time order', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const a = subsample(items, 10, 1);
    expect(a).toHaveLength(10);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(subsample(items, 10, 1)).toEqual(a);
    expect(subsample(items, 10, 2)).not.toEqual(a);
    expect(subsample(items, 200, 1)).toEqual(items);
  });
});
