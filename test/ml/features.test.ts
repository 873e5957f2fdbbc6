import { from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_SET_PARAMETERS } from '../../src/features/feature-set.js';
import { FeatureEngine, featureRows, MISSING_VALUE, mlFeatureSchema, modelInput, WARMUP_BARS, type FeatureRow } from '../../src/ml/features.js';
import { directionLabels } from '../../src/ml/labels.js';
import { defineFeatureSchema } from '../../src/ml/model.js';
import { istDate, type Bar } from '../../src/model/index.js';
import { aggregateBars } from '../../src/streams/operators/aggregate-bars.js';
import { readDataFolder, replayTickBatches, type DataFolder } from '../../src/streams/sources/csv-replay.js';

const DATA = '../shared/data/nse-5min';
const SYMBOLS = ['INFY', 'SBIN'];

let data: DataFolder;
beforeAll(async () => {
  data = await readDataFolder(DATA, { symbols: SYMBOLS });
  expect(data.rejected).toEqual([]);
});

/** Every feature of `a` and `b` is the same float (Object.is: -0, NaN and every bit of a double). */
function expectSameRows(live: readonly FeatureRow[], batch: readonly FeatureRow[]): number {
  expect(live.length).toBe(batch.length);
  let compared = 0;
  live.forEach((row, i) => {
    const other = batch[i]!;
    expect(row.startMs).toBe(other.startMs);
    const names = Object.keys(other.values);
    expect(Object.keys(row.values)).toEqual(names);
    for (const name of names) {
      if (!Object.is(row.values[name], other.values[name]))
        throw new Error(`${row.symbol} bar ${i} (${new Date(row.startMs).toISOString()}) ${name}: live ${row.values[name]} ≠ batch ${other.values[name]}`);
      compared += 1;
    }
  });
  return compared;
}

describe('ML features: one definition for training and live inference', () => {
  it('a replay through the live path (bars → ticks → bar aggregation → per-symbol engines, bar by bar) gives the training features bit for bit', async () => {
    // live: the replay source turns each bar into ticks, the pipeline's aggregator rebuilds 5-minute
    // bars from them, and each closed bar is fed, as it arrives, to its symbol's engine
    const batches = [...replayTickBatches(data, 256)];
    const closed = (await lastValueFrom(from(batches).pipe(aggregateBars('5m'), toArray()))).flat();
    const engines = new Map<string, FeatureEngine>();
    const live = new Map<string, FeatureRow[]>();
    for (const bar of closed) {
      let engine = engines.get(bar.symbol);
      if (!engine) engines.set(bar.symbol, (engine = new FeatureEngine(bar.symbol)));
      const rows = live.get(bar.symbol) ?? [];
      rows.push(engine.update(bar));
      live.set(bar.symbol, rows);
    }
    const schema = mlFeatureSchema('5m');
    let compared = 0;
    for (const symbol of SYMBOLS) {
      const bars = data.bars.get(symbol)!;
      expect(bars.length).toBeGreaterThan(1_500);
      // training: the CSV's bars, fed in one go
      const batch = featureRows(bars);
      compared += expectSameRows(live.get(symbol)!, batch);
      // and the model inputs (float32) are the same bits
      live
        .get(symbol)!
        .forEach((row, i) =>
          expect(Buffer.from(modelInput(row.values, schema).buffer).equals(Buffer.from(modelInput(batch[i]!.values, schema).buffer))).toBe(true),
        );
    }
    expect(compared).toBeGreaterThan(2 * 1_500 * 70);
  });

  it('no look-ahead: changing or shifting the bars after t changes no feature at or before t', () => {
    const all = data.bars.get('INFY')!;
    for (const t of [WARMUP_BARS + 3, 611]) {
      const bars = all.slice(0, t + 80);
      const original = featureRows(bars);
      const scaled: Bar[] = bars.map((bar, i) =>
        i <= t
          ? bar
          : {
              ...bar,
              openPaise: bar.openPaise * 2,
              highPaise: bar.highPaise * 3,
              lowPaise: bar.lowPaise,
              closePaise: bar.closePaise * 2,
              volume: bar.volume * 7 + 1,
            },
      );
      // shifted: the bars after t are replaced by the series' later bars (a gap in time, other prices)
      const shifted: Bar[] = [...bars.slice(0, t + 1), ...all.slice(t + 40, t + 120).map((bar) => ({ ...bar, startMs: bar.startMs + 3_600_000 }))];
      const truncated = bars.slice(0, t + 1);
      for (const variant of [scaled, shifted, truncated]) {
        const rows = featureRows(variant);
        expectSameRows(rows.slice(0, t + 1), original.slice(0, t + 1));
        // the change is seen from t + 1 on (a check that the variant differs at all)
        if (variant !== truncated) expect(Object.is(rows[t + 1]!.values.ret_1, original[t + 1]!.values.ret_1)).toBe(false);
      }
    }
  });

  it('labels read only future bars: the label at t is the close move from t to t + horizon, with the dead band', () => {
    const bars = data.bars.get('SBIN')!;
    const options = { horizon: 6, threshold: 0.001, mode: 'ternary' as const, sameSession: true };
    const labels = directionLabels(bars, options);
    // an oracle of its own: the move in paise against the band, same IST day only
    bars.forEach((bar, t) => {
      const future = bars[t + 6];
      let expected: number | null = null;
      if (future && istDate(future.startMs) === istDate(bar.startMs)) {
        const moveTimesClose = future.closePaise - bar.closePaise; // sign and size against threshold × close
        expected = moveTimesClose > 0.001 * bar.closePaise ? 2 : moveTimesClose < -0.001 * bar.closePaise ? 0 : 1;
      }
      expect([t, labels[t]]).toEqual([t, expected]);
    });
    // changing the bars after t + horizon changes no label at or before t
    const t = 900;
    const changed = bars.map((bar, i) => (i <= t + 6 ? bar : { ...bar, closePaise: bar.closePaise * 3 }));
    expect(directionLabels(changed, options).slice(0, t + 1)).toEqual(labels.slice(0, t + 1));
    // binary: the band is unlabelled; the last horizon bars have no label
    const binary = directionLabels(bars, { ...options, mode: 'binary' });
    binary.forEach((label, i) => expect(label).toBe(labels[i] === 1 ? null : labels[i] === 2 ? 1 : labels[i]));
    expect(labels.slice(-6)).toEqual([null, null, null, null, null, null]);
    expect(labels.filter((label) => label !== null).length).toBeGreaterThan(1_000);
  });

  it('the schema: 50+ features, missing values encoded, a hash that follows names and parameters and not key order', () => {
    const schema = mlFeatureSchema('5m');
    expect(schema.names.length).toBeGreaterThanOrEqual(50);
    expect(schema.names).not.toContain('obv');
    expect(mlFeatureSchema('5m').hash).toBe(schema.hash);
    expect(schema.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(mlFeatureSchema('1d').hash).not.toBe(schema.hash);
    expect(mlFeatureSchema('5m', 20).hash).not.toBe(schema.hash);
    const { hash: _hash, ...fields } = schema;
    const reordered = defineFeatureSchema({ ...fields, parameters: Object.fromEntries(Object.entries(fields.parameters).reverse()) });
    expect(reordered.hash).toBe(schema.hash);
    expect(defineFeatureSchema({ ...fields, parameters: { ...fields.parameters, rsi: '7,14' } }).hash).not.toBe(schema.hash);
    expect(defineFeatureSchema({ ...fields, names: [...fields.names].reverse() }).hash).not.toBe(schema.hash);
    expect(defineFeatureSchema({ ...fields, version: fields.version + 1 }).hash).not.toBe(schema.hash);
    expect(Object.keys(FEATURE_SET_PARAMETERS).length).toBeGreaterThan(10);
    // before warm-up most features are missing; missing is the sentinel in the float32 row
    const first = featureRows(data.bars.get('INFY')!.slice(0, 2))[1]!;
    const row = modelInput(first.values, schema);
    expect(first.values.dist_sma_100).toBeNull();
    expect(row[schema.names.indexOf('dist_sma_100')]).toBe(Math.fround(MISSING_VALUE));
    expect(row[schema.names.indexOf('ret_1')]).toBe(Math.fround(first.values.ret_1!));
  });

  it('an engine refuses bars out of order or of another symbol', () => {
    const [a, b] = data.bars.get('INFY')!;
    const engine = new FeatureEngine('INFY');
    engine.update(b!);
    expect(() => engine.update(a!)).toThrow(/time order/);
    expect(() => engine.update({ ...b!, symbol: 'TCS' })).toThrow(/TCS/);
  });
});
