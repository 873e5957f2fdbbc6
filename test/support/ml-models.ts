/**
 * Small real models and stored bars for the ML API and Models page tests: Random Forests trained
 * on the shared 5-minute data (`../shared/data/nse-5min`) with the project's trainer, exported to
 * ONNX and evaluated out of sample (so they carry real metrics), and the same data as the
 * 1-minute bars a running Troupe stores (what a retraining reads).
 */
import { trainRandomForestModel } from '../../src/ml/forest/train-model.js';
import type { TrainedModel } from '../../src/ml/model.js';
import { istTimeMs, type Bar } from '../../src/model/index.js';
import type { Queryable } from '../../src/persistence/database.js';
import { upsertBars } from '../../src/persistence/timeseries/bars.js';
import { readDataFolder } from '../../src/streams/sources/csv-replay.js';

export const ML_DATA = '../shared/data/nse-5min';
/** The first two symbols of the synthetic market (`TROUPE_SYMBOLS=2`), both in the shared data. */
export const ML_SYMBOLS = ['RELIANCE', 'TCS'] as const;
const LABELS = { horizon: 6, threshold: 0.001, mode: 'ternary', sameSession: true } as const;

/** The shared 5-minute bars of {@link ML_SYMBOLS}. */
export async function mlSeries(): Promise<Map<string, Bar[]>> {
  return (await readDataFolder(ML_DATA, { symbols: [...ML_SYMBOLS] })).bars;
}

/**
 * Trains one small forest per seed (3 trees, depth 4, 200 rows: about a second each), held out
 * from 2026-06-12; versions differ by seed and `nowMs` (which names the version).
 */
export async function smallForests(series: ReadonlyMap<string, readonly Bar[]>, seeds: readonly number[]): Promise<TrainedModel[]> {
  const models: TrainedModel[] = [];
  for (const [i, seed] of seeds.entries()) {
    const { model } = await trainRandomForestModel({
      series,
      interval: '5m',
      labels: LABELS,
      forest: { trees: 3, maxDepth: 4, maxFeatures: 8, minNodeSamples: 10, minGain: 0, seed, maxTrainingRows: 200 },
      testFromMs: istTimeMs('2026-06-12', 0, 0),
      nowMs: Date.parse('2026-06-20T00:00:00Z') + i * 60_000,
    });
    models.push(model);
  }
  return models;
}

/**
 * Five 1-minute bars whose 5-minute bar is `bar` exactly: open → open, open → high, high → low,
 * low → close, close → close (each minute's high and low are its own extremes), volume split.
 */
export function minutesOf(bar: Bar): Bar[] {
  const path = [bar.openPaise, bar.openPaise, bar.highPaise, bar.lowPaise, bar.closePaise, bar.closePaise];
  const share = Math.floor(bar.volume / 5);
  return Array.from({ length: 5 }, (_, i) => {
    const open = path[i]!;
    const close = path[i + 1]!;
    return {
      type: 'bar',
      symbol: bar.symbol,
      interval: '1m',
      startMs: bar.startMs + i * 60_000,
      openPaise: open,
      highPaise: Math.max(open, close),
      lowPaise: Math.min(open, close),
      closePaise: close,
      volume: i === 4 ? bar.volume - 4 * share : share,
      tickCount: 1,
    };
  });
}

/** Stores the series as the 1-minute bars a running Troupe keeps (what a retraining reads). */
export async function storeMinuteBars(db: Queryable, series: ReadonlyMap<string, readonly Bar[]>): Promise<void> {
  for (const bars of series.values()) await upsertBars(db, bars.flatMap(minutesOf));
}
