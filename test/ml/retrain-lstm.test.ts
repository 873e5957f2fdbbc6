import { beforeAll, describe, expect, it } from 'vitest';
import { walkForwardSplit } from '../../src/ml/dataset.js';
import { mlFeatureSchema } from '../../src/ml/features.js';
import { exportLstmToOnnx } from '../../src/ml/lstm/onnx-export.js';
import { sequenceSamples } from '../../src/ml/lstm/train-model.js';
import { disposeLstm, trainLstm } from '../../src/ml/lstm/trainer.js';
import { retrain, type RetrainProgress, type RetrainSettings } from '../../src/ml/retrain/retrainer.js';
import { isBetter } from '../../src/ml/retrain/retrain-job.js';
import { DAY_MS, istDayStartMs, type Bar } from '../../src/model/index.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { readBars } from '../../src/persistence/timeseries/bars.js';
import { suiteDatabase } from '../support/databases.js';
import { mlSeries, storeMinuteBars } from '../support/ml-models.js';

/**
 * Retraining the LSTM, walk-forward on the stored bars of the shared data, in the child process:
 * a candidate better than the live LSTM on the same held-out windows is promoted; the same data
 * again gives the same network (seeded, deterministic training), which is not better than itself
 * and stays a candidate; the forest's live model is left alone.
 */
const LABELS = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;
const SETTINGS: RetrainSettings = {
  kind: 'lstm',
  interval: '5m',
  windowDays: 40,
  testDays: 5,
  trees: 1,
  maxRows: 400,
  lstm: { timeSteps: 4, units: 6, epochs: 3, batchSize: 64, learningRate: 0.01, seed: 7 },
};

const db = suiteDatabase('pglite');
const minuteBars = (symbol: string, fromMs: number, toMs: number): Promise<Bar[]> => readBars(db(), '1m', symbol, fromMs, toMs);
let series: Map<string, Bar[]>;
let store: MlModelStore;
let nowMs: number;

beforeAll(async () => {
  series = await mlSeries();
  await migrate(db());
  store = new MlModelStore(db());
  await storeMinuteBars(db(), series);
  // the day after the data: the last 5 calendar days are held out
  nowMs = Math.max(...[...series.values()].map((bars) => bars[bars.length - 1]!.startMs)) + DAY_MS;
}, 60_000);

describe('retraining the LSTM', () => {
  it('trains in a child process, promotes only a candidate better than the live LSTM on the same held-out windows', async () => {
    // the live LSTM: fitted to the held-out windows with every label rotated (down → flat → up →
    // down), so it is wrong there with confidence: an honest candidate beats it
    const schema = mlFeatureSchema('5m', SETTINGS.lstm!.timeSteps);
    const { test } = walkForwardSplit(sequenceSamples(series, schema, LABELS), istDayStartMs(nowMs - 5 * DAY_MS));
    const width = schema.names.length;
    const sequences = new Float32Array(test.length * schema.lookback * width);
    test.forEach((sample, i) => sequences.set(sample.x, i * schema.lookback * width));
    const inverted = await trainLstm(
      { timeSteps: schema.lookback, features: width, sequences, labels: Int32Array.from(test, (sample) => (sample.y + 1) % 3) },
      { units: 6, classes: 3, epochs: 12, batchSize: 32, learningRate: 0.03, seed: 1 },
    );
    const onnx = exportLstmToOnnx(inverted, { featureSchemaHash: schema.hash });
    disposeLstm(inverted);
    await store.register({
      kind: 'lstm',
      version: 'lstm-inverted',
      featureSchemaHash: schema.hash,
      featureSchema: schema,
      classes: ['down', 'flat', 'up'],
      metrics: { samples: 0, accuracy: 0, brier: 0, perClass: {}, labels: LABELS },
      trainingWindow: { fromMs: test[0]!.startMs, toMs: test[test.length - 1]!.startMs },
      onnx,
    });
    await store.promote('lstm-inverted');

    const progress: RetrainProgress[] = [];
    const first = await retrain({ minuteBars, store, symbols: ['RELIANCE', 'TCS'], settings: SETTINGS, nowMs, onProgress: (p) => progress.push(p) });
    expect(first.childPid).toBeDefined();
    expect(first.childPid).not.toBe(process.pid);
    expect(first.version).toMatch(/^lstm-/);
    expect(first.testSamples).toBe(test.length);
    expect(progress.filter((p) => p.message.startsWith('epoch ')).map((p) => p.message.split(':')[0])).toEqual(['epoch 1/3', 'epoch 2/3', 'epoch 3/3']);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['reading', 'training', 'shadow', 'registering', 'done']));
    expect(first.live).toBeDefined();
    expect(isBetter(first.candidate, first.live!)).toBe(true);
    expect(first).toMatchObject({ promoted: true, liveVersion: 'lstm-inverted' });
    const promoted = await store.live('lstm');
    expect(promoted?.version).toBe(first.version);
    expect(promoted?.featureSchema).toEqual(schema);
    expect(promoted?.metrics).toMatchObject({ accuracy: first.candidate.accuracy, brier: first.candidate.brier, retraining: { liveVersion: 'lstm-inverted' } });

    // the same data again: the same network (bit for bit), not better than itself: kept
    const second = await retrain({ minuteBars, store, symbols: ['RELIANCE', 'TCS'], settings: SETTINGS, nowMs: nowMs + 60_000 });
    expect(second).toMatchObject({ promoted: false, liveVersion: first.version });
    expect(second.candidate.brier).toBe(second.live!.brier);
    expect(second.candidate.brier).toBe(first.candidate.brier);
    expect(second.reason).toMatch(/^not better than/);
    expect((await store.live('lstm'))?.version).toBe(first.version);
    expect((await store.summary(second.version)).status).toBe('candidate');
    expect(await store.live('random-forest')).toBeUndefined();
  }, 120_000);
});
