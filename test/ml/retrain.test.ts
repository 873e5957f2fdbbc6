import { beforeAll, describe, expect, it } from 'vitest';
import { nextRetrainMs } from '../../src/ml/retrain/schedule.js';
import { parseRetrainSchedule } from '../../src/config/ml.js';
import { ConfigError } from '../../src/config/errors.js';
import { buildDataset, walkForwardSplit } from '../../src/ml/dataset.js';
import { mlFeatureSchema } from '../../src/ml/features.js';
import { trainForest } from '../../src/ml/forest/forest.js';
import { forestToOnnx } from '../../src/ml/forest/onnx-export.js';
import { resampleBars } from '../../src/ml/retrain/resample.js';
import { retrain, type RetrainProgress } from '../../src/ml/retrain/retrainer.js';
import { isBetter } from '../../src/ml/retrain/retrain-job.js';
import { DAY_MS, istDayStartMs, istTimeMs, type Bar } from '../../src/model/index.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { readBars, upsertBars } from '../../src/persistence/timeseries/bars.js';
import { readDataFolder } from '../../src/streams/sources/csv-replay.js';
import { suiteDatabase } from '../support/databases.js';
import { minutesOf } from '../support/ml-models.js';

const SYMBOLS = ['INFY', 'TCS'];

const db = suiteDatabase('pglite');
const minuteBars = (symbol: string, fromMs: number, toMs: number): Promise<Bar[]> => readBars(db(), '1m', symbol, fromMs, toMs);
let series: Map<string, Bar[]>;
let store: MlModelStore;
let endMs: number;

beforeAll(async () => {
  series = (await readDataFolder('../shared/data/nse-5min', { symbols: SYMBOLS })).bars;
  await migrate(db());
  store = new MlModelStore(db());
  for (const bars of series.values()) await upsertBars(db(), bars.flatMap(minutesOf));
  endMs = Math.max(...[...series.values()].map((bars) => bars[bars.length - 1]!.startMs));
}, 60_000);

describe('retraining', () => {
  it("the store's 1-minute bars resample to the 5-minute bars they came from", () => {
    for (const bars of series.values()) expect(resampleBars(bars.flatMap(minutesOf), '5m')).toEqual(bars.map((bar) => ({ ...bar, tickCount: 5 })));
  });

  it('schedules weekly (IST) by default, daily or off; refuses a bad schedule', () => {
    const sunday2am = parseRetrainSchedule('weekly sun 02:00');
    // Monday 2026-12-07 10:00 IST → Sunday 2026-12-13 02:00 IST
    expect(nextRetrainMs(sunday2am, istTimeMs('2026-12-07', 10, 0))).toBe(istTimeMs('2026-12-13', 2, 0));
    expect(nextRetrainMs(sunday2am, istTimeMs('2026-12-13', 2, 0))).toBe(istTimeMs('2026-12-20', 2, 0));
    expect(nextRetrainMs(parseRetrainSchedule('daily 18:30'), istTimeMs('2026-12-07', 19, 0))).toBe(istTimeMs('2026-12-08', 18, 30));
    expect(nextRetrainMs(parseRetrainSchedule('off'), 0)).toBeUndefined();
    expect(() => parseRetrainSchedule('weekly funday 02:00')).toThrow(ConfigError);
    expect(() => parseRetrainSchedule('hourly')).toThrow(ConfigError);
  });

  it('trains in a child process on the stored bars, promotes only a candidate better than the live model on the same held-out rows', async () => {
    // the live model: a forest fitted to the held-out rows with every label rotated (down → flat →
    // up → down), so it is confidently wrong there: any honest candidate beats it
    const schema = mlFeatureSchema('5m');
    const labels = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;
    const nowMs = endMs + DAY_MS; // the day after the data: the last 5 calendar days are held out
    const testFromMs = istDayStartMs(nowMs - 5 * DAY_MS);
    const { train, test } = walkForwardSplit(buildDataset(series, schema, labels).samples, testFromMs);
    const inverted = trainForest(
      test.map((sample) => ({ ...sample, y: (sample.y + 1) % 3 })),
      3,
      { trees: 5, maxDepth: 10, maxFeatures: 30, minNodeSamples: 2, minGain: 0, seed: 9, maxTrainingRows: 1000 },
    );
    await store.register({
      kind: 'random-forest',
      version: 'rf-inverted',
      featureSchemaHash: schema.hash,
      featureSchema: schema,
      classes: ['down', 'flat', 'up'],
      metrics: { samples: 0, accuracy: 0, brier: 0, perClass: {}, labels },
      trainingWindow: { fromMs: train[0]!.startMs, toMs: train[train.length - 1]!.startMs },
      onnx: forestToOnnx(inverted),
    });
    await store.promote('rf-inverted');

    const settings = { interval: '5m', windowDays: 40, testDays: 5, trees: 5, maxRows: 250, forest: { maxDepth: 4, minNodeSamples: 10 } } as const;
    const progress: RetrainProgress[] = [];
    const first = await retrain({ minuteBars, store, symbols: [...SYMBOLS, 'NOSUCH'], settings, nowMs, onProgress: (p) => progress.push(p) });
    expect(first.childPid).toBeDefined();
    expect(first.childPid).not.toBe(process.pid);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['reading', 'training', 'shadow', 'registering', 'done']));
    expect(progress.some((p) => p.message.includes('NOSUCH (0 bars)'))).toBe(true);
    expect(first.live).toBeDefined();
    expect(isBetter(first.candidate, first.live!)).toBe(true);
    expect(first).toMatchObject({ promoted: true, liveVersion: 'rf-inverted' });
    expect(first.reason).toMatch(/^better than rf-inverted/);
    expect((await store.live('random-forest'))?.version).toBe(first.version);

    // the same data again: an identical candidate is not better than itself, so it stays a candidate
    const second = await retrain({ minuteBars, store, symbols: SYMBOLS, settings, nowMs: nowMs + 60_000 });
    expect(second).toMatchObject({ promoted: false, liveVersion: first.version });
    expect(second.candidate.brier).toBe(second.live!.brier);
    expect(second.reason).toMatch(/^not better than/);
    expect((await store.live('random-forest'))?.version).toBe(first.version);
    expect((await store.summary(second.version)).status).toBe('candidate');
  }, 180_000);

  it('refuses, with a clear error and nothing registered, when the store has too few bars', async () => {
    const before = (await store.list()).length;
    await expect(
      retrain({ minuteBars, store, symbols: ['NOSUCH'], settings: { interval: '5m', windowDays: 10, testDays: 2, trees: 3, maxRows: 100 }, nowMs: endMs }),
    ).rejects.toThrow(/not enough stored bars/);
    expect(await store.list()).toHaveLength(before);
  });
});
