import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { mlConfig } from '../../src/config/ml.js';
import { buildDataset, walkForwardSplit } from '../../src/ml/dataset.js';
import { featureRows, mlFeatureSchema, modelInput, WARMUP_BARS } from '../../src/ml/features.js';
import { forestProbabilities, trainForest } from '../../src/ml/forest/forest.js';
import { forestToOnnx } from '../../src/ml/forest/onnx-export.js';
import { istTimeMs, type Bar, type Prediction } from '../../src/model/index.js';
import { migrate } from '../../src/persistence/migrate.js';
import { MlModelStore } from '../../src/persistence/ml-model-store.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { MlService } from '../../src/runtime/ml-service.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { readDataFolder, type DataFolder } from '../../src/streams/sources/csv-replay.js';
import { suiteDatabase } from '../support/databases.js';
import { storeMinuteBars } from '../support/ml-models.js';

/**
 * The ML actor's warm-up from the store: at start, the ML service loads the live model with the
 * last closed bars of its interval, built from the stored 1-minute bars; a symbol with stored
 * bars predicts on its very first live bar, and that prediction is the trainer's for a series
 * that starts at the first warm-up bar; a symbol without stored bars warms up on live bars.
 */
const SYMBOLS = ['INFY', 'TCS'];
const LABELS = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;
const schema = mlFeatureSchema('5m');
/** The first live bar: index in each symbol's series (INFY has stored bars before it, TCS none). */
const LIVE = 180;

const db = suiteDatabase('pglite');
let data: DataFolder;
let runtime: Runtime | undefined;
let service: MlService | undefined;

beforeAll(async () => {
  data = await readDataFolder('../shared/data/nse-5min', { symbols: SYMBOLS });
  await migrate(db());
  // INFY's first LIVE bars as the 1-minute bars the time-series writer keeps
  await storeMinuteBars(db(), new Map([['INFY', data.bars.get('INFY')!.slice(0, LIVE)]]));
});

afterAll(async () => {
  await service?.stop();
  await runtime?.stop();
});

describe('the ML actor warms up from the stored bars', () => {
  it('predicts on the first live bar of a symbol with stored bars, as the trainer would from the first warm-up bar; others wait for live bars', async () => {
    const infy = data.bars.get('INFY')!;
    const tcs = data.bars.get('TCS')!;
    const liveStartMs = infy[LIVE]!.startMs;
    expect(tcs[LIVE]!.startMs).toBe(liveStartMs);
    const { train } = walkForwardSplit(buildDataset(data.bars, schema, LABELS).samples, istTimeMs('2026-06-12', 0, 0));
    const forest = trainForest(train, 3, { trees: 5, maxDepth: 4, maxFeatures: 8, minNodeSamples: 10, minGain: 0, seed: 11, maxTrainingRows: 250 });
    const store = new MlModelStore(db());
    await store.register({
      kind: 'random-forest',
      version: 'rf-warm',
      featureSchemaHash: schema.hash,
      featureSchema: schema,
      classes: ['down', 'flat', 'up'],
      metrics: { samples: 0, accuracy: 0, brier: 0, perClass: {}, labels: LABELS },
      trainingWindow: { fromMs: train[0]!.startMs, toMs: train[train.length - 1]!.startMs },
      onnx: forestToOnnx(forest),
    });
    await store.promote('rf-warm');

    // the market's clock stands at the open of the first live bar: every stored bucket before it is closed
    const rt = new Runtime({
      instruments: data.instruments,
      strategies: [],
      portfolio: { portfolioId: 'p', initialCashPaise: 1_00_00_000_00 },
      clock: { nowMs: () => liveStartMs },
    });
    rt.start();
    runtime = rt;
    service = new MlService({
      config: mlConfig({ TROUPE_ML_RETRAIN: 'off', TROUPE_ML_CHECK_SECONDS: '3600' }),
      database: db(),
      runtime: rt,
      metrics: new Metrics({ defaultMetrics: false }),
      log: silentLogger(),
      symbols: SYMBOLS,
    });
    await service.start();
    const warm = await eventually(
      async () => {
        const status = (await rt.mlStatus())!;
        expect(status.modelVersion).toBe('rf-warm');
        return status;
      },
      { timeoutMs: 20_000 },
    );
    // INFY: the latest 101 closed bars (all within the days read back); TCS: none stored
    expect(warm).toMatchObject({ symbols: 1, warmSymbols: 1, stats: { warmupBars: WARMUP_BARS, bars: 0, predictions: 0 } });

    const predictions: Prediction[] = [];
    rt.bus.on('PredictionMade', (event) => predictions.push(event.prediction));
    rt.offerBars([infy[LIVE]!, tcs[LIVE]!]);
    await rt.whenIdle();
    expect(predictions.map((p) => [p.symbol, p.barStartMs])).toEqual([['INFY', liveStartMs]]);

    // the oracle: the trainer's features of INFY from the first warm-up bar on (the stored
    // 1-minute bars give back each 5-minute bar, tick count aside), the forest's votes / trees
    const series: Bar[] = [...infy.slice(LIVE - WARMUP_BARS, LIVE).map((bar) => ({ ...bar, tickCount: 5 })), infy[LIVE]!];
    const last = featureRows(series).at(-1)!;
    expect(last.ready).toBe(true);
    const [want] = forestProbabilities(forest, [modelInput(last.values, schema)]);
    predictions[0]!.probabilities.forEach((value, c) => expect(Object.is(value, Math.fround(want![c]!))).toBe(true));

    // TCS warms up on live bars: its first prediction comes with its 101st live bar
    for (let i = LIVE + 1; i < LIVE + WARMUP_BARS; i += 1) rt.offerBars([infy[i]!, tcs[i]!]);
    await rt.whenIdle();
    expect(predictions.filter((p) => p.symbol === 'TCS').map((p) => p.barStartMs)).toEqual([tcs[LIVE + WARMUP_BARS - 1]!.startMs]);
    expect(predictions.filter((p) => p.symbol === 'INFY')).toHaveLength(WARMUP_BARS);
  }, 60_000);
});
